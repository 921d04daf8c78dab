"""Reading the fields a metric needs from :class:`ropbench.specs.ScoringInputs`."""

from __future__ import annotations

import torch

from ropbench.specs import ScoringInputs

__all__ = ["require", "heatmaps_and_masks", "scored_images"]


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
    return heatmaps.detach().to("cpu", torch.float32), masks.detach().to("cpu", torch.bool)


def scored_images(heatmaps: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """bool [N]: images a localization metric can score (non-empty mask, finite map)."""
    return masks.flatten(1).any(1) & torch.isfinite(heatmaps.flatten(1)).all(1)
