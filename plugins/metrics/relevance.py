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

from ropbench import hookimpl
from ropbench.specs import MetricSpec, ScoringContext
from ropbench_plugins.metrics._blocks import map_blocks
from ropbench_plugins.metrics._context import (
    count_mask_pixels,
    finite_maps,
    flat_numpy,
    heatmaps_and_masks,
    mask_pixel_counts,
)
from ropbench_plugins.metrics.chance_levels import mask_share

__all__ = ["ropbench_register_metrics", "relevance_mass", "shared_relevance_mass", "relevance_mass_spec"]


def relevance_mass(heatmaps: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """float64 [N]: positive relevance inside ``masks`` over all positive relevance."""
    count = heatmaps.shape[0]
    pixels = heatmaps.shape[1] * heatmaps.shape[2]
    values = flat_numpy(heatmaps, torch.float32)
    flags = flat_numpy(masks, torch.bool)

    def sums(rows: slice) -> np.ndarray:
        positive = np.maximum(values[rows], np.float32(0.0))
        # float64 accumulation: float32 sums of 50k pixels lose the digits that make
        # the mask's own relevance mass exactly 1. Masking by multiplication is exact.
        total = np.add.reduce(positive, axis=1, dtype=np.float64)
        positive *= flags[rows]
        return np.stack([total, np.add.reduce(positive, axis=1, dtype=np.float64)], 1)

    total, inside = np.concatenate(map_blocks(count, sums) or [np.zeros((0, 2))]).T
    mask_pixels = count_mask_pixels(masks)
    with np.errstate(invalid="ignore", divide="ignore"):
        mass = np.where(total > 0, inside / total, mask_pixels.numpy() / pixels)
    mass = torch.from_numpy(mass)
    return torch.where((mask_pixels > 0) & finite_maps(heatmaps), mass, torch.nan)


def shared_relevance_mass(context: ScoringContext) -> torch.Tensor:
    """:func:`relevance_mass` of ``context.heatmaps`` in ``context.masks``, once per context."""
    heatmaps, masks = heatmaps_and_masks(context)
    return context.shared.get(("relevance-mass",), lambda: relevance_mass(heatmaps, masks)).clone()


def _compute(context: ScoringContext, seed: int) -> torch.Tensor:
    return shared_relevance_mass(context)


def _chance(context: ScoringContext, seed: int) -> torch.Tensor:
    # i.i.d. uniform pixels are exchangeable: each pixel holds 1/n of the expected mass.
    _, masks = heatmaps_and_masks(context)
    return mask_share(mask_pixel_counts(context), masks.shape[1] * masks.shape[2])


def relevance_mass_spec() -> MetricSpec:
    """``relevance-mass``."""
    return MetricSpec(
        name="relevance-mass",
        kind="localization",
        higher_is_better=True,
        compute=_compute,
        chance=_chance,
        bounds=(0.0, 1.0),
        version="1",
        params={},
        description="Share of the heatmap's positive relevance inside the mask.",
    )


@hookimpl
def ropbench_register_metrics() -> list[MetricSpec]:
    return [relevance_mass_spec()]
