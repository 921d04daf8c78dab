"""Relevance mass: the share of a heatmap's positive relevance that falls in the mask.

This is Arras et al.'s relevance mass accuracy, the "activation in regional cues" of
Son et al. and the "localization accuracy" of energy-based pointing. Negative values
carry no relevance (clamped to 0). A map with no positive relevance at all (e.g. all
zeros) says nothing about where the disease is and is scored as a uniform map, P / n,
its chance level; scoring it NaN would silently drop exactly the images where an
explainer fails.
"""

from __future__ import annotations

import numpy as np
import torch

from ropbench.specs import MetricSpec, ScoringInputs
from ropbench_plugins.metrics._inputs import heatmaps_and_masks, mask_pixel_counts, scored_images
from ropbench_plugins.metrics.chance_levels import mask_share

__all__ = ["relevance_mass", "relevance_mass_spec"]

_BLOCK_IMAGES = 32

def relevance_mass(heatmaps: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """float64 [N]: positive relevance inside ``masks`` over all positive relevance."""
    count = heatmaps.shape[0]
    pixels = heatmaps.shape[1] * heatmaps.shape[2]
    values = heatmaps.detach().to("cpu", torch.float32).reshape(count, pixels).numpy()
    flags = masks.detach().cpu().reshape(count, pixels).numpy()
    total = np.empty(count)
    inside = np.empty(count)
    # Row blocks reuse one cache-sized buffer instead of a [N, H*W] temporary.
    buffer = np.empty((min(count, _BLOCK_IMAGES), pixels), dtype=np.float32)
    for start in range(0, count, _BLOCK_IMAGES):
        rows = slice(start, min(start + _BLOCK_IMAGES, count))
        positive = np.maximum(values[rows], np.float32(0.0), out=buffer[: rows.stop - rows.start])
        # float64 accumulation: float32 sums of 50k pixels lose the digits that make
        # the mask's own relevance mass exactly 1. Masking by multiplication is exact.
        total[rows] = np.add.reduce(positive, axis=1, dtype=np.float64)
        positive *= flags[rows]
        inside[rows] = np.add.reduce(positive, axis=1, dtype=np.float64)
    mask_pixels = mask_pixel_counts(masks).numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        mass = np.where(total > 0, inside / total, mask_pixels / pixels)
    mass = torch.from_numpy(mass)
    return torch.where(scored_images(heatmaps, masks), mass, torch.nan)


def _compute(inputs: ScoringInputs) -> torch.Tensor:
    return relevance_mass(*heatmaps_and_masks(inputs))


def _chance(inputs: ScoringInputs) -> torch.Tensor:
    # i.i.d. uniform pixels are exchangeable: each pixel holds 1/n of the expected mass.
    _, masks = heatmaps_and_masks(inputs)
    return mask_share(mask_pixel_counts(masks), masks.shape[1] * masks.shape[2])


def relevance_mass_spec() -> MetricSpec:
    """``relevance-mass``."""
    return MetricSpec(
        name="relevance-mass",
        kind="localization",
        higher_is_better=True,
        compute=_compute,
        chance=_chance,
        version="1",
        params={},
        description="Share of the heatmap's positive relevance inside the mask.",
    )
