"""The pointing game (Zhang et al.): does the heatmap's maximum fall on the mask?

A hit is a maximal pixel within ``tolerance`` of the mask, the tolerance a fraction of
the image side (Zhang et al. used 15 px at 224 px, i.e. 0.067; ropbench's masks
already carry a margin of 1/60 of the side, so the default is 0). When several pixels
share the maximum the score is the share of them that hit, the expected outcome of
picking one at random; a constant map therefore scores its chance level. Images with
an empty mask are not scored (NaN), so empty masks never count as hits.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ropbench import hookimpl
from ropbench.specs import MetricSpec, ScoringContext
from ropbench_plugins.metrics._context import (
    count_mask_pixels,
    finite_maps,
    heatmaps_and_masks,
    mask_pixel_counts,
)
from ropbench_plugins.metrics.chance_levels import mask_share
from ropbench_plugins.metrics.pixel_ranking import ranking_summary, shared_ranking
from ropbench_plugins.metrics.thresholded import PERCENTILES

# Images per block when dilating: bounds the temporaries of the tolerance path.
BLOCK_IMAGES = 32

__all__ = ["ropbench_register_metrics", "dilate", "tolerance_pixels", "pointing_game", "pointing_game_spec"]


def tolerance_pixels(tolerance: float, height: int, width: int) -> int:
    """The tolerance radius in whole pixels at this image size."""
    if tolerance < 0:
        raise ValueError(f"tolerance must be >= 0, got {tolerance}")
    return int(math.floor(tolerance * max(height, width) + 1e-9))


def dilate(masks: torch.Tensor, radius: int) -> torch.Tensor:
    """bool [N, H, W] masks grown by a Euclidean disc of ``radius`` pixels (the masks
    themselves, not a copy, for radius 0).

    A disc is a stack of horizontal segments: for each row offset ``dy`` the mask is
    max-pooled along rows with half-width ``floor(sqrt(r^2 - dy^2))`` and shifted by
    ``dy`` (``radius + 1`` batched 1-D poolings, no per-image loop).
    """
    if radius <= 0:
        return masks
    count, height, width = masks.shape
    rows = masks.to(torch.float32).reshape(count * height, 1, width)
    grown = torch.zeros(count, height + 2 * radius, width, dtype=torch.bool)
    for offset in range(0, radius + 1):
        half = int(math.isqrt(radius * radius - offset * offset))
        segment = F.max_pool1d(rows, 2 * half + 1, stride=1, padding=half) if half else rows
        segment = segment.reshape(count, height, width).bool()
        for shift in {offset, -offset}:
            grown[:, radius + shift : radius + shift + height] |= segment
    return grown[:, radius : radius + height]


def pointing_game(heatmaps: torch.Tensor, masks: torch.Tensor, radius: int = 0) -> torch.Tensor:
    """float64 [N]: share of each heatmap's maximal pixels inside the (dilated) mask."""
    if radius == 0:  # the top-1 statistic of the shared sorted pass: no extra work
        return torch.from_numpy(ranking_summary(heatmaps, masks, PERCENTILES).max_hit_share)
    heatmaps, masks = heatmaps.detach().cpu(), masks.cpu()
    share = torch.empty(heatmaps.shape[0], dtype=torch.float64)
    for start in range(0, heatmaps.shape[0], BLOCK_IMAGES):
        block = slice(start, start + BLOCK_IMAGES)
        flat = heatmaps[block].flatten(1)
        maximal = flat == flat.amax(1, keepdim=True)
        hits = (maximal & dilate(masks[block], radius).flatten(1)).sum(1).to(torch.float64)
        share[block] = hits / maximal.sum(1).clamp(min=1)
    return torch.where((count_mask_pixels(masks) > 0) & finite_maps(heatmaps), share, torch.nan)


def _compute(context: ScoringContext, seed: int, tolerance: float = 0.0) -> torch.Tensor:
    heatmaps, masks = heatmaps_and_masks(context)
    radius = tolerance_pixels(tolerance, masks.shape[1], masks.shape[2])
    if radius == 0:  # the top-1 statistic of the shared sorted pass: no extra work
        return torch.from_numpy(shared_ranking(context, PERCENTILES).max_hit_share.copy())
    return pointing_game(heatmaps, masks, radius)


def _chance(context: ScoringContext, seed: int, tolerance: float = 0.0) -> torch.Tensor:
    # A random map's maximum is a uniformly random pixel.
    _, masks = heatmaps_and_masks(context)
    radius = tolerance_pixels(tolerance, masks.shape[1], masks.shape[2])
    pixels = masks.shape[1] * masks.shape[2]
    mask_pixels = mask_pixel_counts(context)
    if radius == 0:
        return mask_share(mask_pixels, pixels)
    masks = masks.cpu()
    grown = torch.cat(
        [count_mask_pixels(dilate(masks[i : i + BLOCK_IMAGES], radius)) for i in range(0, masks.shape[0], BLOCK_IMAGES)]
    ) if masks.shape[0] else torch.zeros(0, dtype=torch.int64)
    return torch.where(mask_pixels > 0, mask_share(grown, pixels), torch.nan)


def pointing_game_spec() -> MetricSpec:
    """``pointing-game``."""
    return MetricSpec(
        name="pointing-game",
        kind="localization",
        higher_is_better=True,
        compute=_compute,
        chance=_chance,
        bounds=(0.0, 1.0),
        version="1",
        params={"tolerance": 0.0},
        description=(
            "Whether the heatmap's maximum lies within `tolerance` (fraction of the image "
            "side) of the mask; tied maxima split fairly."
        ),
    )


@hookimpl
def ropbench_register_metrics() -> list[MetricSpec]:
    return [pointing_game_spec()]
