"""Expected scores of a uniformly random heatmap (i.i.d. uniform pixel values).

Such a map ranks the pixels uniformly at random (ties have probability zero), so every
rank-based score has an exact expectation that depends only on the image size ``n``,
the mask size ``P`` and, for thresholded scores, the number ``k`` of selected pixels.
All functions are elementwise over float64 tensors; empty masks give NaN.
"""

from __future__ import annotations

import math

import torch

__all__ = [
    "expected_top_hits",
    "expected_average_precision",
    "mask_share",
]


def _nan_where_empty(values: torch.Tensor, mask_pixels: torch.Tensor) -> torch.Tensor:
    return torch.where(mask_pixels > 0, values, torch.full_like(values, math.nan))


def mask_share(mask_pixels: torch.Tensor, pixels: int) -> torch.Tensor:
    """P / n: the chance of precision, rank accuracy, relevance mass and the pointing
    game (the maximum of a random map is a uniformly random pixel)."""
    mask_pixels = mask_pixels.to(torch.float64)
    return _nan_where_empty(mask_pixels / pixels, mask_pixels)


def expected_top_hits(mask_pixels: torch.Tensor, pixels: int, top: torch.Tensor) -> torch.Tensor:
    """k P / n: expected mask pixels among ``k`` uniformly random pixels (hypergeometric
    mean)."""
    mask_pixels = mask_pixels.to(torch.float64)
    return _nan_where_empty(top.to(torch.float64) * mask_pixels / pixels, mask_pixels)


def expected_average_precision(mask_pixels: torch.Tensor, pixels: int | torch.Tensor) -> torch.Tensor:
    """Exact expected average precision of a uniformly random ranking.

    With P positives among n, the positive at rank r has (r - 1)(P - 1)/(n - 1) other
    positives above it on average, so E[AP] = (1/n) sum_r [1/r + (P-1)/(n-1) (r-1)/r]
    = (P-1)/(n-1) + H_n (n-P) / (n (n-1)), H_n the n-th harmonic number. It exceeds the
    prevalence P/n, noticeably so for small masks. ``pixels`` (n) is one number for
    every image or one per image.
    """
    mask_pixels = mask_pixels.to(torch.float64)
    n = torch.as_tensor(pixels, dtype=torch.float64).expand_as(mask_pixels)
    harmonic = torch.digamma(n + 1.0) + 0.5772156649015329
    expected = (mask_pixels - 1) / (n - 1) + harmonic * (n - mask_pixels) / (n * (n - 1))
    expected = torch.where(n == 1, 1.0, expected)  # one pixel, and it is the positive
    return _nan_where_empty(expected, mask_pixels)
