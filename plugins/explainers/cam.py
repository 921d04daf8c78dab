"""The CAM family on CNN feature maps, plus Grad-CAM on ViT token maps.

Every method is one forward (and, for gradient methods, one backward stopped at the
target layer) over the whole batch; maps are computed at the layer's resolution and
upsampled bilinearly to the input. Values are raw: no per-image min-max.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from ropbench import hookimpl
from ropbench.explaining import explaining, has_gap_head, is_cnn, is_vit, upsample_maps
from ropbench.modelinfo import model_info
from ropbench.specs import ExplainContext, ExplainerSpec
from ropbench_plugins.explainers import cam_weights
from ropbench_plugins.explainers.feature_maps import layer_features
from ropbench_plugins.explainers.pathology import pathology_channels

__all__ = ["ropbench_register_explainers", "specs"]

GradientMap = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _gradient_cam(method: GradientMap) -> Callable[..., torch.Tensor]:
    def explain(model: nn.Module, images: torch.Tensor, targets: torch.Tensor, context: ExplainContext) -> torch.Tensor:
        with explaining(model):
            features = layer_features(model, images, targets, with_gradients=True)
            maps = method(features.activations, features.gradients)
        return upsample_maps(maps, images.shape[-2:])

    explain.__doc__ = method.__doc__
    return explain


def explain_eigencam(model: nn.Module, images: torch.Tensor, targets: torch.Tensor, context: ExplainContext) -> torch.Tensor:
    """Eigen-CAM: class-agnostic first principal component of the target-layer maps."""
    with explaining(model):
        features = layer_features(model, images, targets, with_gradients=False)
    return upsample_maps(cam_weights.eigencam_map(features.activations), images.shape[-2:])


def explain_cam(model: nn.Module, images: torch.Tensor, targets: torch.Tensor, context: ExplainContext) -> torch.Tensor:
    """CAM (Zhou et al. 2016): maps weighted by the target row of the linear head after
    global average pooling. No ReLU, as in the paper (negative = evidence against)."""
    info = model_info(model)
    classifier = model.get_submodule(info.classifier)
    with explaining(model):
        features = layer_features(model, images, targets, with_gradients=False)
        weights = classifier.weight[targets.to(classifier.weight.device)].detach()
        maps = cam_weights.weighted_sum(weights.to(features.activations.dtype), features.activations)
    return upsample_maps(maps, images.shape[-2:])


def explain_svd_gradcam(
    model: nn.Module, images: torch.Tensor, targets: torch.Tensor, context: ExplainContext, *, components: int = 1
) -> torch.Tensor:
    """SVD-Grad-CAM: Grad-CAM weights from the top-``components`` rank gradient matrix."""
    with explaining(model):
        features = layer_features(model, images, targets, with_gradients=True)
        maps = cam_weights.svd_gradcam_map(features.activations, features.gradients, components)
    return upsample_maps(maps, images.shape[-2:])


def explain_pathology_gradcam(
    model: nn.Module,
    images: torch.Tensor,
    targets: torch.Tensor,
    context: ExplainContext,
    *,
    theta_act: float = 0.5,
    group: str = "compact",
) -> torch.Tensor:
    """Pathology-aware Grad-CAM: Grad-CAM over the selected channel group only."""
    with explaining(model):
        features = layer_features(model, images, targets, with_gradients=True)
        selected = pathology_channels(features.activations, theta_act, group)
        weights = features.gradients.mean(dim=(2, 3)) * selected
        maps = cam_weights.weighted_sum(weights, features.activations).relu()
    return upsample_maps(maps, images.shape[-2:])


def specs() -> list[ExplainerSpec]:
    gradient_methods = [
        ("gradcam", cam_weights.gradcam_map, "Grad-CAM: spatially averaged gradients weight the target-layer maps."),
        ("gradcam-pp", cam_weights.gradcam_pp_map, "Grad-CAM++: higher-order alpha weights of positive gradients."),
        ("xgradcam", cam_weights.xgradcam_map, "XGrad-CAM: gradients weighted by normalised activations."),
        ("hirescam", cam_weights.hirescam_map, "HiResCAM: element-wise gradient x activation, summed over channels."),
        ("layercam", cam_weights.layercam_map, "LayerCAM: positive gradients as per-location weights."),
    ]
    found = [
        ExplainerSpec(name=name, explain=_gradient_cam(method), supports=is_cnn, version="1", params={}, description=text)
        for name, method, text in gradient_methods
    ]
    return found + [
        ExplainerSpec(
            name="eigencam",
            explain=explain_eigencam,
            supports=is_cnn,
            version="1",
            params={},
            description="Eigen-CAM: first principal component of the target-layer maps (class-agnostic).",
        ),
        ExplainerSpec(
            name="cam",
            explain=explain_cam,
            supports=has_gap_head,
            version="1",
            params={},
            description="CAM (Zhou 2016) for global-average-pooled models: classifier-weighted maps.",
        ),
        ExplainerSpec(
            name="svd-gradcam",
            explain=explain_svd_gradcam,
            supports=is_cnn,
            version="1",
            params={"components": 1},
            description="SVD-Grad-CAM (Thota et al.): weights from the top-n singular components of the gradients.",
        ),
        ExplainerSpec(
            name="pathology-gradcam",
            explain=explain_pathology_gradcam,
            supports=is_cnn,
            version="1",
            params={"theta_act": 0.5, "group": "compact"},
            description="Pathology-aware Grad-CAM (Wang et al.): strong, compact feature maps only.",
        ),
        ExplainerSpec(
            name="vit-gradcam",
            explain=_gradient_cam(cam_weights.gradcam_map),
            supports=is_vit,
            version="1",
            params={},
            description="Grad-CAM on the ViT patch-token map entering the target block's attention.",
        ),
    ]


@hookimpl
def ropbench_register_explainers() -> list[ExplainerSpec]:
    return specs()
