"""ropbench.explaining: the helpers a third-party explainer builds on, and proof that
they suffice for a CAM method."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ropbench.explaining import explaining, explanation_grid, target_scores, upsample_maps
from ropbench.registry import get_registry
from ropbench.specs import ExplainContext


def third_party_gradcam(model: nn.Module, images: torch.Tensor, targets: torch.Tensor, context: ExplainContext) -> torch.Tensor:
    """Grad-CAM written with ropbench.explaining, ropbench.modelinfo and ropbench.specs only."""
    from ropbench.modelinfo import model_info

    layer = model.get_submodule(model_info(model).target_layer)
    captured = []
    handle = layer.register_forward_hook(lambda module, inputs, output: captured.append(output))
    try:
        with explaining(model), torch.enable_grad():
            logits = model(images.detach().requires_grad_(True))
            (gradients,) = torch.autograd.grad(target_scores(logits, targets).sum(), captured[0])
    finally:
        handle.remove()
    weights = gradients.mean(dim=(2, 3), keepdim=True)
    maps = (weights * captured[0].detach()).sum(dim=1).relu()
    return upsample_maps(maps, images.shape[-2:])


def test_a_third_party_cam_built_on_the_public_helpers_equals_the_builtin():
    torch.manual_seed(0)
    model = get_registry().architectures.get("seed-cnn").build(2, 64)
    model.train()
    images = torch.rand(3, 3, 64, 64, generator=torch.Generator().manual_seed(1)) * 2 - 1
    targets = torch.tensor([0, 1, 1])
    ours = third_party_gradcam(model, images, targets, ExplainContext(0))
    builtin = get_registry().explainers.get("gradcam").explain(model, images, targets, ExplainContext(0))
    torch.testing.assert_close(ours, builtin, rtol=1e-4, atol=1e-5 * float(builtin.abs().max()))
    assert model.training and all(p.requires_grad and p.grad is None for p in model.parameters())


def test_explaining_restores_modes_and_requires_grad_even_on_error():
    model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(), nn.Linear(2, 2))
    model.train()
    model[1].eval()
    model[2].weight.requires_grad_(False)
    with pytest.raises(RuntimeError):
        with explaining(model):
            assert not any(m.training for m in model.modules())
            assert not any(p.requires_grad for p in model.parameters())
            raise RuntimeError("boom")
    assert [m.training for m in model.modules()] == [True, True, False, True]
    assert [p.requires_grad for p in model.parameters()] == [True, True, False, True]


def test_target_scores_pick_each_rows_target_logit():
    logits = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert target_scores(logits, torch.tensor([2, 0])).tolist() == [3.0, 4.0]


def test_upsample_maps_is_opencv_bilinear():
    cv2 = pytest.importorskip("cv2")
    import numpy as np

    grid = torch.rand(1, 3, 5, generator=torch.Generator().manual_seed(3))
    expected = cv2.resize(grid[0].numpy(), (80, 48), interpolation=cv2.INTER_LINEAR)  # (width, height)
    torch.testing.assert_close(upsample_maps(grid, (48, 80))[0], torch.from_numpy(np.asarray(expected)))


def test_explanation_grid_needs_model_info():
    with pytest.raises(ValueError, match="carries no ModelInfo"):
        explanation_grid(nn.Identity(), (32, 32))
