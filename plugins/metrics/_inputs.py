"""Reading the fields a metric needs from :class:`ropbench.specs.ScoringInputs`."""

from __future__ import annotations

import torch

from ropbench.specs import ScoringInputs

__all__ = ["require", "heatmaps_and_masks", "scored_images", "mask_pixel_counts", "BLOCK_IMAGES"]

# Images per block in blockwise reductions: ~6 MB of float32 at 224 px, small enough
# to be reused from the allocator's cache instead of freshly mapped (and faulted in).
BLOCK_IMAGES = 32


def require(inputs: ScoringInputs, *fields: str) -> tuple:
    """The named fields, or a ValueError naming the first one the stage did not fill."""
    values = []
    for name in fields:
        value = getattr(inputs, name)
        if value is None:
            raise ValueError(f"this metric needs ScoringInputs.{name}, which is None here")
        values.append(value)
    return tuple(values)


def heatmaps_and_masks(inputs: ScoringInputs) -> tuple[torch.Tensor, torch.Tensor]:
    """Heatmaps float [N, H, W] and masks bool [N, H, W], on the CPU, shapes checked."""
    heatmaps, masks = require(inputs, "heatmaps", "masks")
    if heatmaps.shape != masks.shape or heatmaps.dim() != 3:
        raise ValueError(
            f"heatmaps {tuple(heatmaps.shape)} and masks {tuple(masks.shape)} must both be [N, H, W]"
        )
    # .to() returns the tensor itself when nothing changes: keeping the same object lets
    # the rank-statistics cache recognise the pair across metrics.
    if heatmaps.requires_grad:
        heatmaps = heatmaps.detach()
    return heatmaps.to("cpu", torch.float32), masks.to("cpu", torch.bool)


def scored_images(heatmaps: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """bool [N]: images a localization metric can score (non-empty mask, finite map)."""
    scored = torch.empty(heatmaps.shape[0], dtype=torch.bool)
    for start in range(0, heatmaps.shape[0], BLOCK_IMAGES):
        block = slice(start, start + BLOCK_IMAGES)
        scored[block] = masks[block].flatten(1).any(1) & torch.isfinite(heatmaps[block].flatten(1)).all(1)
    return scored


def mask_pixel_counts(masks: torch.Tensor) -> torch.Tensor:
    """int64 [N]: pixels in each mask."""
    counts = torch.empty(masks.shape[0], dtype=torch.int64)
    for start in range(0, masks.shape[0], BLOCK_IMAGES):
        block = slice(start, start + BLOCK_IMAGES)
        counts[block] = masks[block].flatten(1).sum(1)
    return counts
