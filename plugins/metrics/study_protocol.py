"""The study's own localization numbers, computed its way (``study-precision@p``,
``study-recall@p``; DESIGN.md, "The study's exact localization protocol").

Per image, with the heatmap h (read as float32), V = ``context.vessels`` (the vessel
plane in [0, 1]: the red channel for the seed format) and G = ``context.region_masks``
as 0/1 (the tortuous region):

- A = h >= ``np.percentile(h, p)`` over all the image's pixels (NumPy's default linear
  interpolation; every pixel tied with the threshold is in A);
- precision@p = sum(A V G V) / sum(A V), recall@p = sum(A V G V) / sum(G V).

Both sides are vessel-weighted (V enters the overlap twice, as in the study's code), so
a map that lights up every vessel scores the vessel-weighted share of the ground truth.
The metric's G is the region mask itself: for the seed format that is the study's
square mask after the PIL resize, which is already 0/1 (an 8-bit 0/1 image stays
integral under resizing); the study multiplied it by V, which the formula does.

NaN when a denominator is 0, and also for precision when sum(G V) = 0 (no ground truth
on any vessel: nothing to localize, like an empty mask elsewhere), and for a map with a
NaN or infinite value. Values in [0, 1] (not percent).

Chance (a uniformly random map, whose values are distinct): A is a uniformly random set
of k = n - ceil(i) pixels, i = p/100 (n - 1) NumPy's virtual index (n - i when i is a
whole number).

- recall: E[sum(A V^2 G)] / sum(G V) = (k / n) sum(V^2 G) / sum(G V), exact.
- precision: sum(V^2 G) / sum(V), the ratio of the two expectations. Exact (given that
  A meets a vessel) when V is 0/1, as for the seed format: given the m vessel pixels in
  A, those in G are a hypergeometric draw with mean m |G and V| / |V|. For a graded V it
  is a first-order approximation whose error shrinks as 1 / (vessel pixels in A).

Batched: the percentile thresholds come from the shared sorted pass
(:mod:`.pixel_ranking`, bit-identical to ``np.percentile``); then only pixels with
V != 0 matter, and per block of images one ``bincount`` over (image, which thresholds
the pixel reaches) gives every sum for every p at once (:func:`shared_study_overlaps`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from ropbench import hookimpl
from ropbench.specs import MetricSpec, ScoringContext
from ropbench_plugins.metrics._blocks import map_blocks
from ropbench_plugins.metrics._context import finite_rows, flat_numpy
from ropbench_plugins.metrics.pixel_ranking import percentile_interpolation, shared_ranking
from ropbench_plugins.metrics.thresholded import PERCENTILES

__all__ = ["ropbench_register_metrics", "StudyOverlaps", "study_overlaps", "shared_study_overlaps", "selected_count", "specs"]


@dataclass(frozen=True)
class StudyOverlaps:
    """The study's sums per image (float64): ``overlap`` and ``attention`` [N, K] (one
    column per percentile); ``truth``, ``vessel`` and ``vessel_truth`` [N] (what the
    chance levels need)."""

    overlap: np.ndarray  # sum(A V G V)
    attention: np.ndarray  # sum(A V)
    truth: np.ndarray  # sum(G V)
    vessel: np.ndarray  # sum(V)
    vessel_truth: np.ndarray  # sum(V G V)


def _block_sums(heat: np.ndarray, weight: np.ndarray, truth: np.ndarray, thresholds: np.ndarray) -> tuple:
    rows, columns = thresholds.shape
    nonzero = weight != 0  # pixels with V = 0 add nothing to any sum
    where = np.flatnonzero(nonzero)
    per_image = np.count_nonzero(nonzero, axis=1)
    vessel = weight.ravel().take(where).astype(np.float64)
    vessel_truth = vessel * truth.ravel().take(where)
    selected = heat.ravel().take(where)
    # Which thresholds each pixel reaches, as bits: no assumption that the thresholds
    # of one image are ordered.
    reached = np.zeros(where.size, dtype=np.uint8)
    for column in range(columns):
        above = selected >= np.repeat(thresholds[:, column], per_image)
        reached |= np.left_shift(above, column, dtype=np.uint8)
    cells = np.repeat(np.arange(rows, dtype=np.int64) << columns, per_image) + reached
    size = rows << columns
    membership = ((np.arange(1 << columns)[:, None] >> np.arange(columns)) & 1).astype(np.float64)
    # [rows, 2^K] sums per (image, thresholds reached); summing over the cells whose
    # bit k is set gives the sum over A_k, summing over all cells the image's total.
    attention = np.bincount(cells, vessel, minlength=size).reshape(rows, -1)
    overlap = np.bincount(cells, vessel * vessel_truth, minlength=size).reshape(rows, -1)
    truth_sum = np.bincount(cells, vessel_truth, minlength=size).reshape(rows, -1).sum(1)
    return overlap @ membership, attention @ membership, truth_sum, attention.sum(1), overlap.sum(1)


def study_overlaps(
    heatmaps: torch.Tensor, vessels: torch.Tensor, region_masks: torch.Tensor, thresholds: np.ndarray
) -> StudyOverlaps:
    """The study's sums for heatmaps thresholded at ``thresholds`` (float32 [N, K])."""
    if thresholds.shape[1] > 8:
        raise ValueError("at most 8 percentiles at once")
    heat = flat_numpy(heatmaps, torch.float32)
    weight = flat_numpy(vessels, torch.float32)
    truth = flat_numpy(region_masks, torch.bool)
    parts = map_blocks(
        heat.shape[0], lambda rows: _block_sums(heat[rows], weight[rows], truth[rows], thresholds[rows])
    )
    if not parts:
        empty = np.zeros(0)
        return StudyOverlaps(np.zeros((0, thresholds.shape[1])), np.zeros((0, thresholds.shape[1])), empty, empty, empty)
    overlap, attention, truth_sum, vessel_sum, vessel_truth = (np.concatenate(p) for p in zip(*parts))
    return StudyOverlaps(overlap, attention, truth_sum, vessel_sum, vessel_truth)


def shared_study_overlaps(context: ScoringContext) -> StudyOverlaps:
    """:func:`study_overlaps` at :data:`PERCENTILES`, once per context."""

    def compute() -> StudyOverlaps:
        heatmaps, vessels, regions = context.require("heatmaps", "vessels", "region_masks")
        if not heatmaps.shape == vessels.shape == regions.shape:
            raise ValueError(
                f"heatmaps {tuple(heatmaps.shape)}, vessels {tuple(vessels.shape)} and region_masks "
                f"{tuple(regions.shape)} must have one shape"
            )
        thresholds = shared_ranking(context, PERCENTILES).percentile_values
        return study_overlaps(heatmaps, vessels, regions, thresholds)

    return context.shared.get(("study-overlaps", PERCENTILES), compute)


def selected_count(pixels: int, percentile: float) -> int:
    """Pixels >= ``np.percentile`` of ``pixels`` distinct values."""
    lower, upper, weight = percentile_interpolation(pixels, percentile)
    return pixels - (lower if weight == 0 else upper)


def _ratio(numerator: np.ndarray, denominator: np.ndarray, defined: np.ndarray) -> torch.Tensor:
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.where(defined & (denominator > 0), numerator / denominator, np.nan)
    return torch.from_numpy(value.astype(np.float64))


def _study_metric(score: str, column: int) -> tuple[Callable, Callable]:
    def compute(context: ScoringContext, seed: int) -> torch.Tensor:
        sums = shared_study_overlaps(context)
        finite = finite_rows(context).numpy()
        if score == "precision":
            return _ratio(sums.overlap[:, column], sums.attention[:, column], finite & (sums.truth > 0))
        return _ratio(sums.overlap[:, column], sums.truth, finite)

    def chance(context: ScoringContext, seed: int) -> torch.Tensor:
        sums = shared_study_overlaps(context)
        if score == "precision":
            return _ratio(sums.vessel_truth, sums.vessel, sums.truth > 0)
        (heatmaps,) = context.require("heatmaps")
        pixels = heatmaps.shape[1] * heatmaps.shape[2]
        share = selected_count(pixels, PERCENTILES[column]) / pixels
        return _ratio(share * sums.vessel_truth, sums.truth, np.ones(sums.truth.shape, dtype=bool))

    return compute, chance


def specs() -> list[MetricSpec]:
    """``study-precision@{50,75,80,90,95}`` and ``study-recall@{50,75,80,90,95}``."""
    meanings = {
        "precision": "sum(A V G V) / sum(A V)",
        "recall": "sum(A V G V) / sum(G V)",
    }
    result = []
    for column, percentile in enumerate(PERCENTILES):
        for score, formula in meanings.items():
            compute, chance = _study_metric(score, column)
            result.append(
                MetricSpec(
                    name=f"study-{score}@{percentile}",
                    kind="localization",
                    higher_is_better=True,
                    compute=compute,
                    chance=chance,
                    bounds=(0.0, 1.0),
                    version="1",
                    params={},
                    description=(
                        f"The study's vessel-weighted {score} at the heatmap's {percentile}th "
                        f"percentile (np.percentile, ties in): {formula}, V the vessel plane, "
                        "G the tortuous region."
                    ),
                )
            )
    return result


@hookimpl
def ropbench_register_metrics() -> list[MetricSpec]:
    return specs()
