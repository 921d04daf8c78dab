"""Target-layer features as spatial maps: CNN feature maps and ViT token maps.

CAM methods weight the channels of one layer. For CNNs that layer is
``ModelInfo.target_layer``. For ViTs it is the normalised tokens entering the target
block's attention (``block.norm1``, as pytorch-grad-cam recommends): the output of the
last block feeds a class-token head only through its class token, so gradients at its
patch tokens would be zero. Tokens are reshaped to the patch grid of the *actual* input
(rows = H // patch, cols = W // patch) after dropping ``num_prefix_tokens``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ropbench.explaining import forward_channels_last, target_scores
from ropbench.modelinfo import ModelInfo, model_info

__all__ = ["LayerFeatures", "feature_module", "token_map", "layer_features"]


@dataclass(frozen=True)
class LayerFeatures:
    """One forward (and optionally backward) pass seen at the target layer."""

    activations: torch.Tensor  # [N, C, h, w]
    gradients: torch.Tensor | None  # d(target logit) / d(activations), [N, C, h, w]
    logits: torch.Tensor  # [N, classes]


def feature_module(model: nn.Module, info: ModelInfo) -> nn.Module:
    """The module whose output CAM methods read (see the module docstring)."""
    module = model.get_submodule(info.target_layer)
    if info.family == "vit" and isinstance(getattr(module, "norm1", None), nn.Module):
        return module.norm1
    return module


def token_map(tokens: torch.Tensor, info: ModelInfo, image_size: tuple[int, int]) -> torch.Tensor:
    """ViT tokens [N, T, D] -> patch-token map [N, D, rows, cols] for this input size."""
    if info.patch_size is None:
        raise ValueError("token_map needs ModelInfo.patch_size")
    rows, cols = image_size[0] // info.patch_size, image_size[1] // info.patch_size
    patches = tokens[:, info.num_prefix_tokens :]
    if patches.shape[1] != rows * cols:
        raise ValueError(
            f"{tokens.shape[1]} tokens with {info.num_prefix_tokens} prefix tokens do not form "
            f"a {rows}x{cols} grid for {image_size} input and patch {info.patch_size}"
        )
    return patches.reshape(patches.shape[0], rows, cols, patches.shape[2]).permute(0, 3, 1, 2)


def layer_features(
    model: nn.Module, images: torch.Tensor, targets: torch.Tensor, *, with_gradients: bool
) -> LayerFeatures:
    """Run the model once; return target-layer maps and, if asked, their gradients.

    With gradients, the hooked output is replaced by a fresh leaf (cloned so that
    in-place layers downstream still work): backward then stops at the target layer
    instead of differentiating every earlier layer, which is most of the saving over
    libraries that backpropagate to the input.
    """
    info = model_info(model)
    captured: dict[str, torch.Tensor] = {}

    def hook(_module: nn.Module, _inputs: tuple, output: torch.Tensor) -> torch.Tensor | None:
        if not with_gradients:
            captured["output"] = output.detach()
            return None
        leaf = output.detach().requires_grad_(True)
        captured["output"] = leaf
        return leaf.clone()

    handle = feature_module(model, info).register_forward_hook(hook)
    try:
        with torch.set_grad_enabled(with_gradients):
            logits = forward_channels_last(model, images) if info.family == "cnn" else model(images)
            gradients = None
            if with_gradients:
                (gradients,) = torch.autograd.grad(target_scores(logits, targets).sum(), captured["output"])
    finally:
        handle.remove()
    activations = captured["output"].detach()
    if info.family == "vit":
        size = (images.shape[-2], images.shape[-1])
        activations = token_map(activations, info, size)
        gradients = token_map(gradients, info, size) if gradients is not None else None
    if activations.ndim != 4:
        raise ValueError(f"target layer {info.target_layer!r} gave {tuple(activations.shape)}; expected [N, C, h, w]")
    return LayerFeatures(activations, gradients, logits.detach())
