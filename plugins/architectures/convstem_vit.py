"""``vit-convstem-tiny``: a ViT whose patchify convolution is a small convolutional stem.

Xiao et al. 2021 ("Early convolutions help transformers see better") replace the ViT's one
strided patch convolution with a few stride-2 3x3 convolutions and show that the
transformer then trains as readily as a CNN. That is what this benchmark needs on a CPU:
from scratch on a few hundred 64-px retinas, timm's plain ViTs stay at chance within the
quick suite's budget, while this model reaches the CNNs' accuracy (numbers in
docs/architectures.md).

Everything after the stem is timm's ``VisionTransformer``: class token, position
embeddings, blocks and attention modules, so every ViT explainer (rollout, grad-rollout,
token GradCAM, class-token attention) and ViT guidance apply unchanged. The token grid is
``image_size // patch_size``, as for a plain ViT with that patch size; at an image size
that is not a multiple of the patch (the study's 244 px) the stem first resizes its input
bilinearly to the multiple below (244 -> 240), so the grid still covers the whole image.
"""

from __future__ import annotations

import functools
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ropbench_plugins.architectures.timm_models import build_timm_model

__all__ = ["build_convstem_vit", "stem_embed_class", "stem_widths"]

# timm's ViT-Ti width (192, 3 heads) with half its depth: enough for the synthetic task
# (docs/architectures.md), and the blocks' cost is linear in their number.
_BASE_MODEL = "vit_tiny_patch16_224"


def stem_widths(patch_size: int, embed_dim: int) -> list[int]:
    """Output channels of the stride-2 convolutions: doubling up to ``embed_dim``.

    A patch of ``2**k`` pixels takes ``k`` stride-2 convolutions, so the stem's output
    grid is exactly the plain ViT's token grid.
    """
    steps = patch_size.bit_length() - 1
    if patch_size < 2 or patch_size != 1 << steps:
        raise ValueError(f"vit-convstem-tiny: patch_size must be a power of two >= 2, got {patch_size}")
    return [max(8, embed_dim >> (steps - step)) for step in range(1, steps + 1)]


@functools.cache
def stem_embed_class() -> type:
    """The ConvStemPatchEmbed class, made once: timm (and torchvision under it) load on
    first use, not when plugins register."""
    from timm.layers import PatchEmbed

    class ConvStemPatchEmbed(PatchEmbed):
        """timm's PatchEmbed (same grid, flatten and norm) with a convolutional ``proj``:
        ``log2(patch)`` x [3x3 stride-2 conv, batch norm, ReLU], then a 1x1 conv to the
        embedding width (the stem's last layer in Xiao et al.)."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            in_chans, embed_dim = self.proj.in_channels, self.proj.out_channels
            layers: list[nn.Module] = []
            channels = in_chans
            for width in stem_widths(int(self.patch_size[0]), embed_dim):
                layers += [nn.Conv2d(channels, width, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True)]
                channels = width
            layers.append(nn.Conv2d(channels, embed_dim, 1))
            self.proj = nn.Sequential(*layers)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            height, width = x.shape[-2:]
            rows, cols = height - height % self.patch_size[0], width - width % self.patch_size[1]
            if (rows, cols) != (height, width):
                x = F.interpolate(x, size=(rows, cols), mode="bilinear", align_corners=False)
            return super().forward(x)

    return ConvStemPatchEmbed


def build_convstem_vit(
    num_classes: int,
    image_size: int,
    *,
    pretrained: bool = False,
    weights: str = "",
    patch_size: int = 8,
    embed_dim: int = 192,
    depth: int = 6,
    num_heads: int = 3,
) -> nn.Module:
    """The conv-stem ViT at ``image_size`` (at least ``patch_size``; see the module docstring
    for sizes that are not a multiple of it).

    :param patch_size: pixels per token side (a power of two); 8 suits 64-128 px images,
        16 is the usual choice at 224 px.
    :param embed_dim: token width; ``num_heads`` must divide it.
    :param depth: transformer blocks.
    :param weights: a local checkpoint of this exact model (its keys include the stem).
    """
    model_kwargs = {
        "embed_layer": stem_embed_class(),
        "patch_size": patch_size,
        "embed_dim": embed_dim,
        "depth": depth,
        "num_heads": num_heads,
    }
    if image_size < patch_size:
        raise ValueError(f"vit-convstem-tiny: image size {image_size} is smaller than the patch size {patch_size}")
    return build_timm_model(
        num_classes, image_size - image_size % patch_size, model_name=_BASE_MODEL, pretrained=pretrained, weights=weights,
        model_kwargs=model_kwargs, architecture="vit-convstem-tiny",
    )
