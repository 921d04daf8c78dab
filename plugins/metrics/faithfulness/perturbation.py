"""Shared pieces of the faithfulness metrics: saliency in [0, 1], baselines, pixel
order, and batched target-class probabilities under inference mode."""

from __future__ import annotations

import contextlib
from typing import Iterator

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "BASELINES",
    "unit_saliency",
    "baseline_images",
    "pixel_ranks",
    "target_probabilities",
    "evaluation_mode",
    "model_device",
]

# What "removed" pixels become, in model-input space ([-1, 1], see ropbench.imaging).
# black: pixel value 0, the x * saliency of the CAM papers; grey: mid-grey (0.0);
# blur: a Gaussian blur (RISE's insertion start); noise: seeded uniform noise.
BASELINES = ("black", "grey", "blur", "noise")


def unit_saliency(heatmaps: torch.Tensor) -> torch.Tensor:
    """Per-image min-max scaling to [0, 1] (as CAM libraries do before masking).

    A constant map carries no ranking and becomes all ones (the image is kept whole).
    """
    flat = heatmaps.flatten(1).to(torch.float32)
    low = flat.amin(1, keepdim=True)
    span = flat.amax(1, keepdim=True) - low
    scaled = torch.where(span > 0, (flat - low) / span.clamp(min=torch.finfo(torch.float32).tiny), 1.0)
    return scaled.reshape(heatmaps.shape)


def _gaussian_blur(images: torch.Tensor, sigma: float) -> torch.Tensor:
    radius = max(1, int(round(3 * sigma)))
    offsets = torch.arange(-radius, radius + 1, dtype=images.dtype, device=images.device)
    kernel = torch.exp(-0.5 * (offsets / sigma) ** 2)
    kernel = kernel / kernel.sum()
    channels = images.shape[1]
    horizontal = kernel.reshape(1, 1, 1, -1).expand(channels, 1, 1, -1)
    vertical = kernel.reshape(1, 1, -1, 1).expand(channels, 1, -1, 1)
    padded = F.pad(images, (radius, radius, 0, 0), mode="replicate")
    blurred = F.conv2d(padded, horizontal, groups=channels)
    padded = F.pad(blurred, (0, 0, radius, radius), mode="replicate")
    return F.conv2d(padded, vertical, groups=channels)


def baseline_images(images: torch.Tensor, kind: str, seed: int) -> torch.Tensor:
    """The baseline of ``images`` (float [N, 3, H, W] in [-1, 1]) named by ``kind``."""
    if kind == "black":
        return torch.full_like(images, -1.0)
    if kind == "grey":
        return torch.zeros_like(images)
    if kind == "blur":
        # RISE blurs 224 px images with sigma 5: keep the same share of the image side.
        return _gaussian_blur(images, sigma=5.0 * images.shape[-1] / 224)
    if kind == "noise":
        generator = torch.Generator().manual_seed(int(seed))
        noise = torch.rand(images.shape, generator=generator) * 2 - 1
        return noise.to(images.device, images.dtype)
    raise ValueError(f"unknown baseline {kind!r}; choose one of {', '.join(BASELINES)}")


def pixel_ranks(heatmaps: torch.Tensor, seed: int) -> torch.Tensor:
    """int64 [N, H*W]: each pixel's rank, 0 for the most salient.

    Ties are broken by one seeded random permutation of the pixels, so a constant map
    removes pixels in a random (not top-left-first) order, reproducibly.
    """
    count = heatmaps.shape[0]
    flat = heatmaps.detach().flatten(1).to("cpu", torch.float32)
    pixels = flat.shape[1]
    shuffle = torch.randperm(pixels, generator=torch.Generator().manual_seed(int(seed)))
    order = torch.sort(flat[:, shuffle], dim=1, descending=True, stable=True).indices
    order = shuffle[order]
    ranks = torch.empty_like(order)
    ranks.scatter_(1, order, torch.arange(pixels).expand(count, pixels))
    return ranks


@contextlib.contextmanager
def evaluation_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Eval mode (no dropout, frozen batch-norm statistics) restored afterwards."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


def model_device(model: nn.Module) -> torch.device:
    parameter = next(model.parameters(), None)
    return parameter.device if parameter is not None else torch.device("cpu")


def target_probabilities(
    model: nn.Module, images: torch.Tensor, targets: torch.Tensor, batch_size: int
) -> torch.Tensor:
    """float64 [M]: softmax probability of ``targets`` for ``images`` [M, 3, H, W],
    forwarded ``batch_size`` at a time under inference mode."""
    device = model_device(model)
    outputs = []
    with torch.inference_mode(), evaluation_mode(model):
        for start in range(0, images.shape[0], batch_size):
            batch = images[start : start + batch_size].to(device)
            logits = model(batch)
            chosen = targets[start : start + batch_size].to(device)
            probabilities = torch.softmax(logits.float(), dim=1)
            outputs.append(probabilities.gather(1, chosen[:, None]).squeeze(1).cpu())
    if not outputs:
        return torch.zeros(0, dtype=torch.float64)
    return torch.cat(outputs).to(torch.float64)
