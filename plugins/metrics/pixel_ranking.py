"""One sorted pass over every heatmap: the shared engine of the rank-based metrics.

Percentile thresholds, relevance rank accuracy, the pointing game, average precision
and pixel ROC-AUC all depend only on how each image's pixels rank, and on which ranked
pixels are in the mask. This module sorts each image once and answers all of them.

Why not ``torch.sort`` + ``argsort``: sorting 1000 x 224^2 floats with indices takes
seconds. Instead each pixel becomes one int64 key, ``row << 33 | order(value) << 1 |
in_mask``, where ``order`` maps float32 to uint32 preserving order. NumPy's SIMD sort
of such keys is several times faster, needs no argsort, and after the per-row sort the
flattened keys are globally sorted (the row is the top bit field), so one
``searchsorted`` over the whole chunk finds tie groups. Inside a tie group the mask
pixels sort last, which the formulas below rely on.

Ties are split fairly everywhere: when a threshold falls inside a group of equal
values, each tied pixel counts as selected with probability (pixels still needed) /
(tied pixels). That is the expectation over a uniformly random tie break, so a
constant map scores exactly its chance level.

The same sorted pass also reads off each map's percentiles exactly as
``np.percentile(heatmap, p)`` computes them (linear interpolation), for the study's
own protocol (:mod:`.study_protocol`).

Metrics share the pass through :func:`shared_ranking`, which computes it once per
:class:`~ropbench.specs.ScoringContext` under the key ``("ranking", percentiles)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from ropbench.specs import ScoringContext
from ropbench_plugins.metrics._blocks import map_blocks
from ropbench_plugins.metrics._context import heatmaps_and_masks

__all__ = [
    "RankingSummary",
    "ranking_summary",
    "shared_ranking",
    "top_counts",
    "float32_order",
    "percentile_interpolation",
]

@dataclass(frozen=True)
class RankingSummary:
    """Per-image rank statistics, float64 numpy arrays of length N (NaN: not scored).

    :param mask_pixels: pixels in the mask (P).
    :param pixels: pixels per image (H * W).
    :param top_counts: the ``k`` values asked for, int64 [N, K].
    :param expected_hits: expected mask pixels among the top ``k`` (ties split), [N, K].
    :param rank_hits: expected mask pixels among the top P.
    :param max_hit_share: share of the maximal pixels inside the mask (pointing game).
    :param average_precision: sklearn-compatible average precision.
    :param roc_auc: area under the ROC curve, ties counted one half.
    :param percentile_values: ``np.percentile(heatmap, p)`` for each requested ``p``,
        float32 [N, K] (NaN for a non-finite map).
    """

    mask_pixels: np.ndarray
    pixels: int
    top_counts: np.ndarray
    expected_hits: np.ndarray
    rank_hits: np.ndarray
    max_hit_share: np.ndarray
    average_precision: np.ndarray
    roc_auc: np.ndarray
    percentile_values: np.ndarray


def percentile_interpolation(pixels: int, percentile: float) -> tuple[int, int, float]:
    """(lower index, upper index, weight) of ``np.percentile``'s linear method.

    The p-th percentile of n sorted values v is ``lerp(v[lower], v[upper], weight)``;
    the arithmetic mirrors NumPy's ``_quantile`` (Hyndman and Fan's method 7) step
    by step, so the interpolated value is bit-identical to NumPy's.
    """
    quantile = np.true_divide(percentile, 100)
    virtual = (pixels - 1) * quantile  # NumPy's 'linear' virtual index, as it computes it
    lower = np.floor(virtual)
    weight = float(virtual - lower)
    if virtual >= pixels - 1:
        return pixels - 1, pixels - 1, weight
    if virtual < 0:
        return 0, 0, weight
    return int(lower), int(lower) + 1, weight


def _lerp(low: np.ndarray, high: np.ndarray, weight: float) -> np.ndarray:
    # NumPy's _lerp, including its switch to the upper end at weight >= 1/2 and its
    # float32 arithmetic (the Python float weight is a weak scalar).
    difference = high - low
    if weight >= 0.5:
        return high - difference * (1 - weight)
    return low + difference * weight


def float32_order(values: np.ndarray) -> np.ndarray:
    """int64 keys that order like the float32 ``values`` (-0.0 and +0.0 equal).

    Signed-magnitude float bits become two's complement order: negative floats map to
    -(magnitude bits). Keys lie in [-2^31, 2^31).
    """
    bits = np.ascontiguousarray(values, dtype=np.float32).view(np.int32)
    sign = bits >> 31  # 0 or -1
    ordered = sign & np.int32(0x7FFFFFFF)
    ordered ^= bits
    ordered -= sign
    return ordered.astype(np.int64)


def _float32_from_order(ordered: np.ndarray) -> np.ndarray:
    """The inverse of :func:`float32_order` (-0.0 comes back as +0.0)."""
    ordered = ordered.astype(np.int32)
    negative = ordered < 0
    bits = np.where(negative, (ordered - 1) ^ np.int32(0x7FFFFFFF), ordered)
    return bits.astype(np.int32).view(np.float32)


def top_counts(pixels: int, percentiles: Sequence[float]) -> np.ndarray:
    """How many pixels lie above the p-th percentile: ``ceil((100 - p) / 100 * pixels)``.

    At least one pixel is always selected. Computed exactly for percentiles that are
    integers or simple decimals (no float rounding at e.g. p=80, 16 pixels -> 4).
    """
    from fractions import Fraction

    counts = []
    for percentile in percentiles:
        share = (100 - Fraction(str(percentile))) / 100
        count = -((-share * pixels) // 1)  # exact ceiling
        counts.append(max(1, min(pixels, int(count))))
    return np.asarray(counts, dtype=np.int64)


def _sort_keys(heatmaps: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """Per-row sorted int64 keys: row | order-preserving value bits | mask bit."""
    rows = heatmaps.shape[0]
    keys = float32_order(heatmaps)
    keys <<= 1
    keys |= masks
    # + 2^32 lifts the (signed) value field to non-negative, below the row field.
    keys += ((np.arange(rows, dtype=np.int64) << 33) + (1 << 32))[:, None]
    keys.sort(axis=1)
    return keys


def _expected_hits_at(
    keys: np.ndarray, positives: np.ndarray, row_first: np.ndarray, pixels: int, top: np.ndarray
) -> np.ndarray:
    """Expected mask pixels among the ``top[r, i]`` highest pixels of each row r."""
    rows = keys.shape[0] // pixels
    row_base = (np.arange(rows, dtype=np.int64) * pixels)[:, None]
    boundary = row_base + (pixels - top)  # first selected position in ascending order
    group_value = keys[boundary] & ~np.int64(1)
    group_start = np.searchsorted(keys, group_value, "left")
    group_end = np.searchsorted(keys, group_value | 1, "right")
    hits_before_start = np.searchsorted(positives, group_start, "left")
    hits_before_end = np.searchsorted(positives, group_end, "left")
    row_last = np.append(row_first[1:], positives.size)[:, None]
    hits_above = row_last - hits_before_end
    hits_tied = hits_before_end - hits_before_start
    above = row_base + pixels - group_end
    tied = group_end - group_start
    needed = top - above
    return hits_above + hits_tied * (needed / tied)


def _percentile_values(keys: np.ndarray, rows: int, pixels: int, percentiles: Sequence[float]) -> np.ndarray:
    """float32 [rows, K]: each row's ``np.percentile`` at every requested percentile."""
    row_base = np.arange(rows, dtype=np.int64) * pixels
    values = np.empty((rows, len(percentiles)), dtype=np.float32)
    for column, percentile in enumerate(percentiles):
        lower, upper, weight = percentile_interpolation(pixels, percentile)
        ends = []
        for index in (lower, upper):
            position = row_base + index
            # key = row << 33 | (order + 2^31) << 1 | bit: strip the row and the bit
            ordered = ((keys[position] - (position // pixels << 33)) >> 1) - (1 << 31)
            ends.append(_float32_from_order(ordered))
        values[:, column] = _lerp(ends[0], ends[1], weight)
    return values


def _summarise_chunk(
    heatmaps: np.ndarray, masks: np.ndarray, top: np.ndarray, percentiles: Sequence[float]
) -> tuple[np.ndarray, ...]:
    rows, pixels = heatmaps.shape
    finite = np.isfinite(heatmaps).all(axis=1)
    if not finite.all():  # unscored later; zeros keep the sort well defined meanwhile
        heatmaps = np.where(finite[:, None], heatmaps, np.float32(0.0))
    keys = _sort_keys(heatmaps, masks).reshape(-1)
    positives = np.flatnonzero(keys & 1)  # global positions of mask pixels, ascending
    row_first = np.searchsorted(positives, np.arange(rows, dtype=np.int64) * pixels, "left")
    mask_pixels = np.diff(np.append(row_first, positives.size))

    row_of = positives // pixels
    order_in_row = np.arange(positives.size) - row_first[row_of]
    # Start of each mask pixel's tie group and mask pixels before that start. Without
    # a tie the start is the pixel itself: search only where the previous key ties.
    start = positives.copy()
    hits_before = np.arange(positives.size, dtype=np.int64)
    tied = positives > 0
    tied[tied] = (keys[positives[tied] - 1] >> 1) == (keys[positives[tied]] >> 1)
    if tied.any():
        values = keys[positives[tied]] & ~np.int64(1)
        start[tied] = np.searchsorted(keys, values, "left")
        hits_before[tied] = np.searchsorted(positives, start[tied], "left")
    start_in_row = start - row_of * pixels
    hits_before -= row_first[row_of]

    count = mask_pixels[row_of]
    # Average precision: each mask pixel contributes the precision at the threshold
    # equal to its value (every pixel >= it selected), as sklearn does.
    precision = (count - hits_before) / (pixels - start_in_row)
    with np.errstate(invalid="ignore", divide="ignore"):
        average_precision = np.bincount(row_of, precision, minlength=rows) / mask_pixels
        # ROC-AUC: negatives strictly below + half the tied negatives, per mask pixel.
        # Mask pixels sort last in their group, so all tied negatives precede them.
        below = start_in_row - hits_before
        position_in_row = positives - row_of * pixels
        below_or_tied = position_in_row - order_in_row
        wins = np.bincount(row_of, 0.5 * below + 0.5 * below_or_tied, minlength=rows)
        roc_auc = wins / (mask_pixels * (pixels - mask_pixels))

    # Percentile cuts, then the top P (rank accuracy), then the top 1 (pointing game).
    rank_top = np.maximum(mask_pixels, 1)[:, None]
    tops = [np.broadcast_to(top, (rows, top.size)), rank_top, np.ones((rows, 1), np.int64)]
    hits = _expected_hits_at(keys, positives, row_first, pixels, np.concatenate(tops, 1))
    return (
        finite,
        mask_pixels,
        hits[:, :-2],
        hits[:, -2],
        hits[:, -1],
        average_precision,
        roc_auc,
        _percentile_values(keys, rows, pixels, percentiles),
    )


def _compute(
    heatmaps: torch.Tensor, masks: torch.Tensor, top: np.ndarray, percentiles: Sequence[float]
) -> RankingSummary:
    count, height, width = heatmaps.shape
    pixels = height * width
    values = heatmaps.detach().to("cpu", torch.float32).reshape(count, pixels).numpy()
    flags = masks.detach().to("cpu", torch.bool).reshape(count, pixels).numpy()
    if count == 0:
        empty = np.zeros(0)
        no_top = np.zeros((0, top.size))
        return RankingSummary(
            np.zeros(0, np.int64), pixels, no_top.astype(np.int64), no_top, empty, empty, empty, empty,
            np.zeros((0, len(percentiles)), np.float32),
        )

    def summarise(part: slice) -> tuple[np.ndarray, ...]:
        return _summarise_chunk(values[part], flags[part], top, percentiles)

    parts = map_blocks(count, summarise)
    finite, mask_pixels, hits, rank_hits, max_share, ap, auc, quantiles = (np.concatenate(p) for p in zip(*parts))
    unscored = (mask_pixels == 0) | ~finite
    for array in (hits, rank_hits, max_share, ap, auc):
        array[unscored] = np.nan
    quantiles[~finite] = np.nan
    return RankingSummary(
        mask_pixels=mask_pixels,
        pixels=pixels,
        top_counts=np.broadcast_to(top, (count, top.size)).copy(),
        expected_hits=hits,
        rank_hits=rank_hits,
        max_hit_share=max_share,
        average_precision=ap,
        roc_auc=auc,
        percentile_values=quantiles,
    )


def ranking_summary(
    heatmaps: torch.Tensor, masks: torch.Tensor, percentiles: Sequence[float]
) -> RankingSummary:
    """Rank statistics of each heatmap against its mask.

    Images whose mask is empty or whose heatmap has a non-finite value get NaN.
    ``percentiles`` choose the ``top_counts`` (see :func:`top_counts`) and the
    ``percentile_values``. Heatmaps are read as float32.
    """
    if heatmaps.shape != masks.shape or heatmaps.dim() != 3:
        raise ValueError(f"heatmaps {tuple(heatmaps.shape)} and masks {tuple(masks.shape)} must both be [N, H, W]")
    top = top_counts(heatmaps.shape[1] * heatmaps.shape[2], percentiles)
    return _compute(heatmaps, masks, top, tuple(percentiles))


def shared_ranking(context: ScoringContext, percentiles: Sequence[float]) -> RankingSummary:
    """:func:`ranking_summary` of ``context.heatmaps`` against ``context.masks``, computed
    once per context (key ``("ranking", percentiles)``)."""
    heatmaps, masks = heatmaps_and_masks(context)
    key = ("ranking", tuple(percentiles))
    return context.shared.get(key, lambda: ranking_summary(heatmaps, masks, percentiles))
