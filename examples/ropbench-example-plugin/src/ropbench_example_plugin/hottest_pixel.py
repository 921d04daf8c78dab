"""``hottest-pixel-on-tortuous``: is the map's hottest pixel a tortuous vessel pixel?

Per image: the share of the map's maximal pixels (all of them when several tie) that are
tortuous vessel pixels. A uniformly random map puts its maximum on any pixel alike, so
its expected score is the tortuous share of the image, |T| / (H W): the chance level.
"""

from __future__ import annotations

import torch

from ropbench.specs import ScoringContext

__all__ = ["hottest_pixel_on_tortuous", "hottest_pixel_chance"]


def hottest_pixel_on_tortuous(context: ScoringContext, seed: int) -> torch.Tensor:
    """float64 [N]; NaN for an image without tortuous vessels or with a non-finite map."""
    heatmaps, tortuous = context.require("heatmaps", "tortuous_vessels")
    flat = heatmaps.detach().flatten(1).to(torch.float64).cpu()
    on_tortuous = tortuous.flatten(1).cpu()
    hottest = flat == flat.amax(dim=1, keepdim=True)
    share = (hottest & on_tortuous).sum(1) / hottest.sum(1).clamp(min=1)
    scorable = on_tortuous.any(1) & torch.isfinite(flat).all(1)
    return torch.where(scorable, share.to(torch.float64), torch.nan)


def hottest_pixel_chance(context: ScoringContext, seed: int) -> torch.Tensor:
    heatmaps, tortuous = context.require("heatmaps", "tortuous_vessels")
    share = tortuous.flatten(1).to(torch.float64).mean(1).cpu()
    return torch.where(tortuous.flatten(1).any(1).cpu(), share, torch.nan)
