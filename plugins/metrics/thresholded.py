"""Percentile-threshold precision, recall, F1 and IoU, and relevance rank accuracy.

The original study thresholds each heatmap at its own p-th percentile and scores the
"high-attention" pixels above it: precision = share of them inside the mask, recall =
share of the mask they cover. Here the selection is exactly ``k = ceil((100 - p)% of
n)`` pixels (see :func:`top_counts`); when the threshold value is shared by several
pixels, tied pixels are selected with equal probability and the expected overlap is
scored (so a constant map scores its chance level, and results do not depend on pixel
order). Precision, recall and F1 are linear in the overlap, so their values are the
exact expectations; IoU uses the expected overlap (plug-in).
"""

from __future__ import annotations

from typing import Callable

import torch

from ropbench import hookimpl
from ropbench.specs import MetricSpec, ScoringContext
from ropbench_plugins.metrics._context import heatmaps_and_masks, mask_pixel_counts
from ropbench_plugins.metrics.chance_levels import expected_top_hits, mask_share
from ropbench_plugins.metrics.pixel_ranking import RankingSummary, shared_ranking, top_counts

__all__ = ["ropbench_register_metrics", "PERCENTILES", "percentile_specs", "rank_accuracy_spec", "overlap_score"]

PERCENTILES: tuple[int, ...] = (50, 75, 80, 90, 95)

# score(hits, selected k, mask pixels P) for each percentile metric
_SCORES: dict[str, tuple[Callable[..., torch.Tensor], str]] = {
    "precision": (lambda hits, k, p: hits / k, "share of the selected pixels inside the mask"),
    "recall": (lambda hits, k, p: hits / p, "share of the mask covered by the selected pixels"),
    "f1": (lambda hits, k, p: 2 * hits / (k + p), "harmonic mean of precision and recall"),
    "iou": (lambda hits, k, p: hits / (k + p - hits), "intersection over union of selection and mask"),
}


def overlap_score(score: str, hits: torch.Tensor, top: torch.Tensor, mask_pixels: torch.Tensor) -> torch.Tensor:
    """One of precision/recall/f1/iou from the overlap ``hits`` of ``top`` selected
    pixels with a mask of ``mask_pixels`` pixels (all float64 [N])."""
    return _SCORES[score][0](hits, top.to(torch.float64), mask_pixels.to(torch.float64))


def _summary(context: ScoringContext) -> RankingSummary:
    return shared_ranking(context, PERCENTILES)


def _percentile_metric(score: str, index: int) -> tuple[Callable, Callable]:
    def compute(context: ScoringContext, seed: int) -> torch.Tensor:
        summary = _summary(context)
        hits = torch.from_numpy(summary.expected_hits[:, index].copy())
        top = torch.from_numpy(summary.top_counts[:, index].copy())
        return overlap_score(score, hits, top, torch.from_numpy(summary.mask_pixels))

    def chance(context: ScoringContext, seed: int) -> torch.Tensor:
        _, masks = heatmaps_and_masks(context)
        pixels = masks.shape[1] * masks.shape[2]
        mask_pixels = mask_pixel_counts(context)
        top = torch.from_numpy(top_counts(pixels, PERCENTILES)[index : index + 1]).expand(masks.shape[0])
        hits = expected_top_hits(mask_pixels, pixels, top)
        return overlap_score(score, hits, top, mask_pixels)

    return compute, chance


def percentile_specs() -> list[MetricSpec]:
    """``percentile-{precision,recall,f1,iou}@{50,75,80,90,95}``."""
    specs = []
    for index, percentile in enumerate(PERCENTILES):
        for score, (_, meaning) in _SCORES.items():
            compute, chance = _percentile_metric(score, index)
            specs.append(
                MetricSpec(
                    name=f"percentile-{score}@{percentile}",
                    kind="localization",
                    higher_is_better=True,
                    compute=compute,
                    chance=chance,
                    bounds=(0.0, 1.0),
                    version="1",
                    params={},
                    description=(
                        f"Pixels above the heatmap's {percentile}th percentile (the top "
                        f"{100 - percentile}%, ties split fairly): {meaning}."
                    ),
                )
            )
    return specs


def _rank_accuracy(context: ScoringContext, seed: int) -> torch.Tensor:
    summary = _summary(context)
    mask_pixels = torch.from_numpy(summary.mask_pixels).to(torch.float64)
    return torch.from_numpy(summary.rank_hits) / mask_pixels


def _rank_accuracy_chance(context: ScoringContext, seed: int) -> torch.Tensor:
    _, masks = heatmaps_and_masks(context)
    return mask_share(mask_pixel_counts(context), masks.shape[1] * masks.shape[2])


def rank_accuracy_spec() -> MetricSpec:
    """``relevance-rank-accuracy`` (Arras et al., CLEVR-XAI)."""
    return MetricSpec(
        name="relevance-rank-accuracy",
        kind="localization",
        higher_is_better=True,
        compute=_rank_accuracy,
        chance=_rank_accuracy_chance,
        bounds=(0.0, 1.0),
        version="1",
        params={},
        description=(
            "Share of the P highest-ranked pixels inside the mask, P the mask size "
            "(ties at the cut split fairly)."
        ),
    )


@hookimpl
def ropbench_register_metrics() -> list[MetricSpec]:
    return [*percentile_specs(), rank_accuracy_spec()]
