"""Model-independent control heatmaps: every score needs something to beat.

- ``random``: uniform noise; what a method that knows nothing scores.
- ``vessel-map``: the vessel coverage map itself, the score any vessel detector gets for
  free (tortuous vessels are vessels).
- ``sobel``: Sobel gradient magnitude of the grey input, the score of "look at edges".
"""

from __future__ import annotations

import hashlib

import torch
import torch.nn.functional as F
from torch import nn

from ropbench.specs import ExplainContext, ExplainerSpec
from ropbench_plugins.explainers.explaining import upsample_maps
from ropbench_plugins.explainers.support import any_model

__all__ = ["image_seeds", "explain_random", "explain_vessel_map", "explain_sobel", "specs"]


def image_seeds(images: torch.Tensor, seed: int) -> list[int]:
    """One 63-bit seed per image from the explainer seed and the image's bytes.

    Keyed by content rather than batch position, so an image gets the same random map
    whether it is explained alone or inside any batch, while different images get
    different maps (one shared map would correlate every image's score).
    """
    pixels = images.detach().to("cpu", torch.float32).contiguous().numpy()
    seeds = []
    for image in pixels:
        digest = hashlib.sha256(str(int(seed)).encode() + image.tobytes()).digest()
        seeds.append(int.from_bytes(digest[:8], "little") >> 1)
    return seeds


def explain_random(model: nn.Module, images: torch.Tensor, targets: torch.Tensor, context: ExplainContext) -> torch.Tensor:
    """Uniform [0, 1) noise at input resolution, seeded per image."""
    size = tuple(images.shape[-2:])
    # One small draw per image: the per-image generator is what makes the map
    # independent of the batch it arrives in.
    maps = [torch.rand(size, generator=torch.Generator().manual_seed(s)) for s in image_seeds(images, context.seed)]
    return torch.stack(maps).to(images.device)


def explain_vessel_map(model: nn.Module, images: torch.Tensor, targets: torch.Tensor, context: ExplainContext) -> torch.Tensor:
    """The vessel coverage map of each image (needs ``context.vessels``)."""
    if context.vessels is None:
        raise ValueError("the vessel-map control needs ExplainContext.vessels")
    vessels = context.vessels.to(images.device, torch.float32)
    return upsample_maps(vessels, (images.shape[-2], images.shape[-1])).clone()


_SOBEL_ROWS = torch.tensor([[1.0, 2.0, 1.0], [0.0, 0.0, 0.0], [-1.0, -2.0, -1.0]])


def explain_sobel(model: nn.Module, images: torch.Tensor, targets: torch.Tensor, context: ExplainContext) -> torch.Tensor:
    """Sobel gradient magnitude of the channel-mean image (replicate padding)."""
    grey = images.detach().to(torch.float32).mean(dim=1, keepdim=True)
    kernels = torch.stack([_SOBEL_ROWS, _SOBEL_ROWS.T])[:, None].to(grey.device)
    gradients = F.conv2d(F.pad(grey, (1, 1, 1, 1), mode="replicate"), kernels)
    return gradients.pow(2).sum(dim=1).sqrt()


def specs() -> list[ExplainerSpec]:
    return [
        ExplainerSpec(name="random", explain=explain_random, supports=any_model, version="1", params={},
                      description="Control: seeded uniform noise (chance level)."),
        ExplainerSpec(name="vessel-map", explain=explain_vessel_map, supports=any_model, version="1", params={},
                      description="Control: the vessel map itself (what any vessel detector scores)."),
        ExplainerSpec(name="sobel", explain=explain_sobel, supports=any_model, version="1", params={},
                      description="Control: Sobel edge magnitude of the input."),
    ]
