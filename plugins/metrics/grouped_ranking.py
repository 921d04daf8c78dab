"""ROC-AUC and average precision of many small rankings at once (one per image).

The vessel and segment metrics rank a different number of units per image (the vessel
pixels of each image, the segments of each image). Each unit is one element of flat
arrays: its image (``groups``), its value and whether it is a positive. One sort by
(image, value, positive) serves every image; the scores are then counts read off
cumulative sums at the tie-block boundaries, with no per-image loop:

- ROC-AUC = sum over positives of (negatives strictly below + half the tied negatives)
  / (positives x negatives), the Mann-Whitney U statistic with average ranks;
- average precision = mean over positives of the precision at the threshold equal to
  the positive's value (every unit >= it selected), which is scikit-learn's
  ``average_precision_score`` (one step per distinct value).

float32 values sort as one int64 key per unit, ``image << 33 | order(value) << 1 |
positive`` (as :mod:`.pixel_ranking` does); other dtypes go through ``np.lexsort``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ropbench_plugins.metrics.pixel_ranking import float32_order

__all__ = ["GroupedRanking", "rank_within_groups", "concatenate_rankings"]

# Image ids must fit above the 33 bits of value and positive flag.
_MAX_KEY_GROUPS = 1 << 30


@dataclass(frozen=True)
class GroupedRanking:
    """Per-group results, arrays of length G.

    :param positives: positive units per group (int64).
    :param negatives: negative units per group (int64).
    :param roc_auc: float64; NaN without a positive or without a negative.
    :param average_precision: float64; NaN without a positive.
    """

    positives: np.ndarray
    negatives: np.ndarray
    roc_auc: np.ndarray
    average_precision: np.ndarray


def _sorted_float32(values: np.ndarray, groups: np.ndarray, positives: np.ndarray) -> tuple[np.ndarray, ...]:
    keys = float32_order(values)
    keys += 1 << 31  # non-negative, below the group field
    keys <<= 1
    keys |= positives
    keys |= groups.astype(np.int64) << 33
    keys.sort()
    sorted_groups = keys >> 33
    value_keys = keys >> 1
    new_block = np.empty(keys.size, dtype=bool)
    new_block[:1] = True
    np.not_equal(value_keys[1:], value_keys[:-1], out=new_block[1:])
    return sorted_groups, new_block, (keys & 1).astype(bool)


def _sorted_any(values: np.ndarray, groups: np.ndarray, positives: np.ndarray) -> tuple[np.ndarray, ...]:
    order = np.lexsort((positives, values, groups))
    sorted_groups = groups[order].astype(np.int64)
    sorted_values = values[order]
    new_block = np.empty(order.size, dtype=bool)
    new_block[:1] = True
    new_block[1:] = (sorted_groups[1:] != sorted_groups[:-1]) | (sorted_values[1:] != sorted_values[:-1])
    return sorted_groups, new_block, positives[order].astype(bool)


def rank_within_groups(
    values: np.ndarray, groups: np.ndarray, positives: np.ndarray, group_count: int
) -> GroupedRanking:
    """ROC-AUC and average precision of ``values`` ranking ``positives`` within each group.

    ``values`` [M] (float32 takes the fast key sort; NaN values are the caller's to
    exclude), ``groups`` int [M] in ``0 .. group_count - 1``, ``positives`` bool [M].
    Ties count one half in ROC-AUC and form one threshold in average precision.
    """
    values = np.asarray(values)
    groups = np.asarray(groups)
    positives = np.asarray(positives, dtype=bool)
    if not values.shape == groups.shape == positives.shape or values.ndim != 1:
        raise ValueError("values, groups and positives must be 1-D arrays of one length")
    if values.dtype == np.float32 and group_count < _MAX_KEY_GROUPS:
        sorted_groups, new_block, sorted_positive = _sorted_float32(values, groups, positives)
    else:
        sorted_groups, new_block, sorted_positive = _sorted_any(values, groups, positives)

    size = values.size
    ids = np.arange(group_count, dtype=np.int64)
    group_start = np.searchsorted(sorted_groups, ids, "left")
    group_end = np.searchsorted(sorted_groups, ids, "right")
    cumulative = np.zeros(size + 1, dtype=np.int64)  # positives before each position
    np.cumsum(sorted_positive, out=cumulative[1:])

    where = np.flatnonzero(sorted_positive)
    block_starts = np.flatnonzero(new_block)
    block_ends = np.append(block_starts[1:], size)
    block = np.cumsum(new_block)[where] - 1
    start, end = block_starts[block], block_ends[block]
    group = sorted_groups[where]
    first, last = group_start[group], group_end[group]

    positive_count = np.bincount(group, minlength=group_count).astype(np.int64)
    negative_count = (group_end - group_start) - positive_count
    negatives_below = (start - first) - (cumulative[start] - cumulative[first])
    negatives_tied = (end - start) - (cumulative[end] - cumulative[start])
    wins = np.bincount(group, negatives_below + 0.5 * negatives_tied, minlength=group_count)
    precision = (cumulative[last] - cumulative[start]) / (last - start)
    precision_sum = np.bincount(group, precision, minlength=group_count)
    with np.errstate(invalid="ignore", divide="ignore"):
        roc_auc = wins / (positive_count * negative_count)
        average_precision = precision_sum / positive_count
    roc_auc[(positive_count == 0) | (negative_count == 0)] = np.nan
    average_precision[positive_count == 0] = np.nan
    return GroupedRanking(positive_count, negative_count, roc_auc, average_precision)


def concatenate_rankings(parts: list[GroupedRanking]) -> GroupedRanking:
    """The rankings of consecutive blocks of groups, as one."""
    if not parts:
        empty = np.zeros(0)
        return GroupedRanking(empty.astype(np.int64), empty.astype(np.int64), empty, empty.copy())
    return GroupedRanking(
        positives=np.concatenate([p.positives for p in parts]),
        negatives=np.concatenate([p.negatives for p in parts]),
        roc_auc=np.concatenate([p.roc_auc for p in parts]),
        average_precision=np.concatenate([p.average_precision for p in parts]),
    )
