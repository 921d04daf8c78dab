"""Reading the planes a metric needs from :class:`ropbench.specs.ScoringContext`.

Cheap per-image facts several metrics need (mask sizes, finite maps) are computed once
per context through ``context.shared`` under explicit keys; the plain
functions below them take tensors and remember nothing.
"""

from __future__ import annotations

import numpy as np
import torch

from ropbench.specs import ScoringContext
from ropbench.vessels import VESSEL_THRESHOLD

__all__ = [
    "heatmaps_and_masks",
    "flat_numpy",
    "count_mask_pixels",
    "finite_maps",
    "mask_pixel_counts",
    "finite_rows",
    "scored_images",
    "vessel_indicator",
]


def heatmaps_and_masks(context: ScoringContext) -> tuple[torch.Tensor, torch.Tensor]:
    """Heatmaps [N, H, W] and masks [N, H, W], shapes checked, as the harness passed them."""
    heatmaps, masks = context.require("heatmaps", "masks")
    if heatmaps.shape != masks.shape or heatmaps.dim() != 3:
        raise ValueError(
            f"heatmaps {tuple(heatmaps.shape)} and masks {tuple(masks.shape)} must both be [N, H, W]"
        )
    if masks.dtype != torch.bool:
        raise TypeError(f"masks must be bool, got {masks.dtype}")
    return heatmaps, masks


def flat_numpy(plane: torch.Tensor, dtype: torch.dtype) -> np.ndarray:
    """[N, H*W] NumPy view (or CPU copy) of an [N, H, W] plane in ``dtype``."""
    count = plane.shape[0]
    return plane.detach().to("cpu", dtype).reshape(count, plane[0].numel() if count else 0).numpy()


# The reductions below run in NumPy: on CPU its bool counts and float64-accumulating
# sums are several times faster than torch's for [1000, 224 * 224] inputs.


def count_mask_pixels(masks: torch.Tensor) -> torch.Tensor:
    """int64 [N]: pixels in each mask."""
    return torch.from_numpy(np.count_nonzero(flat_numpy(masks, torch.bool), axis=1).astype(np.int64))


def finite_maps(heatmaps: torch.Tensor) -> torch.Tensor:
    """bool [N]: maps without NaN or infinity."""
    # A float64 row sum of float32 values cannot overflow, so it is finite exactly when
    # every value is (NaN and infinities propagate; +inf and -inf make NaN).
    flat = flat_numpy(heatmaps, torch.float32)
    return torch.from_numpy(np.isfinite(np.add.reduce(flat, axis=1, dtype=np.float64)))


def mask_pixel_counts(context: ScoringContext) -> torch.Tensor:
    """int64 [N]: pixels in each of ``context.masks`` (computed once per context)."""
    _, masks = heatmaps_and_masks(context)
    return context.shared.get(("mask-pixel-counts",), lambda: count_mask_pixels(masks)).clone()


def finite_rows(context: ScoringContext) -> torch.Tensor:
    """bool [N]: which of ``context.heatmaps`` are finite (computed once per context)."""
    (heatmaps,) = context.require("heatmaps")
    return context.shared.get(("finite-rows",), lambda: finite_maps(heatmaps)).clone()


def scored_images(context: ScoringContext) -> torch.Tensor:
    """bool [N]: images a localization metric can score (non-empty mask, finite map)."""
    return (mask_pixel_counts(context) > 0) & finite_rows(context)


def vessel_indicator(vessels: np.ndarray) -> np.ndarray:
    """bool: :func:`ropbench.vessels.vessel_pixels` of a NumPy vessel plane (S)."""
    return vessels >= np.float32(VESSEL_THRESHOLD)
