"""Gradient magnitude smoothed at the scale of the ground truth.

Batched: one backward pass for the whole batch (each target logit depends only on its
own image in eval mode, so summing them gives every image its own gradient) and one
separable convolution. :func:`ropbench.explaining.explaining` puts the model in eval
mode for the pass (so dropout cannot make the map random) with frozen parameters, and
restores every module's mode and ``requires_grad`` afterwards.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ropbench.explaining import explaining, target_scores
from ropbench.specs import ExplainContext

__all__ = ["gradient_magnitude_blur", "gaussian_blur", "DEFAULT_SIGMA_FRACTION"]

DEFAULT_SIGMA_FRACTION = 1 / 60  # the ground-truth margin of the original study


def gaussian_blur(maps: torch.Tensor, sigma: float) -> torch.Tensor:
    """[N, H, W] blurred by a normalised Gaussian (reflect padding); sigma in pixels."""
    if sigma <= 0:
        return maps
    radius = max(1, math.ceil(3 * sigma))
    radius = min(radius, maps.shape[-1] - 1, maps.shape[-2] - 1)  # reflect padding needs radius < side
    offsets = torch.arange(-radius, radius + 1, dtype=maps.dtype, device=maps.device)
    kernel = torch.exp(-0.5 * (offsets / sigma) ** 2)
    kernel = kernel / kernel.sum()
    blurred = F.pad(maps[:, None], (radius, radius, radius, radius), mode="reflect")
    blurred = F.conv2d(blurred, kernel.view(1, 1, 1, -1))
    blurred = F.conv2d(blurred, kernel.view(1, 1, -1, 1))
    return blurred[:, 0]


def gradient_magnitude_blur(model: nn.Module, images: torch.Tensor, targets: torch.Tensor,
                            context: ExplainContext, *, sigma_fraction: float = DEFAULT_SIGMA_FRACTION
                            ) -> torch.Tensor:
    """float32 [N, H, W]: |d logit_target / d image|, max over channels, blurred with
    sigma = ``sigma_fraction`` x image side. Deterministic: ``context.seed`` is unused."""
    inputs = images.detach().clone().requires_grad_(True)
    with explaining(model), torch.enable_grad():
        (gradient,) = torch.autograd.grad(target_scores(model(inputs), targets).sum(), inputs)
    magnitude = gradient.abs().amax(dim=1)
    return gaussian_blur(magnitude, sigma_fraction * images.shape[-1]).float().detach()
