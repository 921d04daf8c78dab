"""Unit behaviour of the pieces: pathology selection, rollout algebra, supports().

The controls have their own file (test_controls.py)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ropbench.modelinfo import ModelInfo, attach_model_info
from ropbench.registry import get_registry
from ropbench.specs import ExplainContext
from ropbench_plugins.explainers.pathology import moment_of_inertia, pathology_channels
from ropbench_plugins.explainers.rollout import gradient_rollout, rollout

EXPLAINERS = get_registry().explainers


def test_controls_support_models_without_model_info_and_cams_do_not():
    bare = nn.Conv2d(3, 2, 1)
    assert EXPLAINERS.get("random").supports(bare)
    assert not EXPLAINERS.get("gradcam").supports(bare)
    assert not EXPLAINERS.get("attention-rollout").supports(bare)


def test_supports_splits_cnn_gap_and_vit_families():
    cnn = attach_model_info(nn.Conv2d(3, 2, 1), ModelInfo(family="cnn", target_layer=""))
    cnn_named = attach_model_info(nn.Sequential(nn.Conv2d(3, 2, 1)), ModelInfo(family="cnn", target_layer="0"))
    gap = attach_model_info(nn.Sequential(nn.Conv2d(3, 2, 1)), ModelInfo(family="cnn", target_layer="0", classifier="0"))
    vit = attach_model_info(
        nn.Sequential(nn.Identity()), ModelInfo(family="vit", target_layer="0", patch_size=16, attention_layers=("0",))
    )
    assert not EXPLAINERS.get("gradcam").supports(cnn)
    assert EXPLAINERS.get("gradcam").supports(cnn_named) and not EXPLAINERS.get("cam").supports(cnn_named)
    assert EXPLAINERS.get("cam").supports(gap)
    assert EXPLAINERS.get("attention-rollout").supports(vit) and not EXPLAINERS.get("gradcam").supports(vit)
    assert EXPLAINERS.get("vit-gradcam").supports(vit) and not EXPLAINERS.get("vit-gradcam").supports(gap)
    assert not EXPLAINERS.get("guided-backprop").supports(gap)  # no nn.ReLU inside


def test_compact_blob_has_less_inertia_than_spread_activation():
    maps = torch.zeros(1, 2, 8, 8)
    maps[0, 0, 3:5, 3:5] = 1.0  # compact blob
    maps[0, 1, ::7, ::7] = 1.0  # four corners
    inertia = moment_of_inertia(maps)
    assert inertia[0, 0] < inertia[0, 1]
    assert moment_of_inertia(torch.zeros(1, 1, 4, 4)).item() == 0


def test_pathology_selection_keeps_strong_maps_and_splits_by_inertia():
    maps = torch.zeros(1, 4, 8, 8)
    maps[0, 0, 3:5, 3:5] = 4.0  # strong, compact
    maps[0, 1, ::7, ::7] = 4.0  # strong, diffuse
    maps[0, 2, 3:5, 3:5] = 0.1  # weak: dropped by theta_act
    compact = pathology_channels(maps, theta_act=0.5, group="compact")
    diffuse = pathology_channels(maps, theta_act=0.5, group="diffuse")
    assert compact.tolist() == [[True, False, False, False]]
    assert diffuse.tolist() == [[False, True, False, False]]


def test_rollout_of_identity_attention_is_identity_and_rows_stay_stochastic():
    eye = torch.eye(5).expand(2, 3, 5, 5)
    torch.testing.assert_close(rollout([eye, eye], "mean", 0.0), torch.eye(5).expand(2, 5, 5))
    random_attention = torch.rand(2, 3, 5, 5).softmax(-1)
    rolled = rollout([random_attention] * 3, "max", 0.0)
    torch.testing.assert_close(rolled.sum(-1), torch.ones(2, 5))


def test_gradient_rollout_keeps_only_positive_gradient_attention_products():
    attention = torch.rand(1, 2, 4, 4).softmax(-1)
    negative = -torch.ones_like(attention)
    torch.testing.assert_close(gradient_rollout([attention], [negative]), torch.eye(4)[None])
    positive = torch.ones_like(attention)
    expected = torch.eye(4) + attention.mean(1)[0]
    torch.testing.assert_close(gradient_rollout([attention], [positive])[0], expected)


class ViewingCNN(nn.Module):
    """Old-style CNN that flattens with ``.view``, which channels-last input breaks."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.head = nn.Linear(4 * 4 * 4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = nn.functional.max_pool2d(self.conv(x).relu(), 2)
        return self.head(features.view(features.shape[0], -1))


@pytest.mark.parametrize("name", ["gradcam", "scorecam"])
def test_cams_fall_back_to_nchw_for_models_that_view_their_features(name):
    torch.manual_seed(0)
    model = attach_model_info(ViewingCNN().eval(), ModelInfo(family="cnn", target_layer="conv"))
    images = torch.rand(2, 3, 8, 8) * 2 - 1
    heatmaps = EXPLAINERS.get(name).explain(model, images, torch.tensor([0, 1]), ExplainContext(0), **EXPLAINERS.get(name).params)
    assert heatmaps.shape == (2, 8, 8) and torch.isfinite(heatmaps).all()
