"""Does the heatmap rank tortuous vessel segments above healthy ones? (``segment-auroc``)

The unit is a vessel segment (``context.vessel_segments``, see
:func:`ropbench.vessels.vessel_segments`): a skeleton branch and the vessel pixels
nearest to it. Only vessel pixels count (S = :func:`ropbench.vessels.vessel_pixels` of
``context.vessels``, unweighted). Per image:

- a segment's score is the mean heat over its pixels (segment id > 0, in S);
- a segment is tortuous when more than half of its pixels are in
  ``context.tortuous_vessels``, healthy otherwise;
- the value is the ROC-AUC of tortuous vs healthy segments, ties one half.

NaN when the image has no tortuous or no healthy segment, or the map has a NaN or
infinite value. Chance 1/2: a uniformly random map gives every segment a mean whose
distribution is symmetric about 1/2, so a tortuous and a healthy segment are equally
likely to come first; the ``vessel-map`` control is constant on S, every segment mean is
exactly 1 and every pair ties: exactly 1/2. Invariant under strictly increasing affine
transforms of the map (means of other monotone transforms may reorder).

Batched: per block of images, one ``bincount`` over (image offset + segment id) gives
every segment's pixel count, heat sum and tortuous pixel count, and one sort ranks all
the block's segments.
"""

from __future__ import annotations

import numpy as np
import torch

from ropbench import hookimpl
from ropbench.specs import MetricSpec, ScoringContext
from ropbench_plugins.metrics._blocks import map_blocks
from ropbench_plugins.metrics._context import finite_rows, flat_numpy, vessel_indicator
from ropbench_plugins.metrics.grouped_ranking import GroupedRanking, concatenate_rankings, rank_within_groups

__all__ = ["ropbench_register_metrics", "segment_ranking", "shared_segment_ranking", "specs"]


def _block_ranking(heat: np.ndarray, ids: np.ndarray, vessels: np.ndarray, tortuous: np.ndarray) -> GroupedRanking:
    count = heat.shape[0]
    members = vessel_indicator(vessels) & (ids > 0)
    where = np.flatnonzero(members)
    per_image = np.count_nonzero(members, axis=1)
    largest = ids.max(axis=1, initial=0).astype(np.int64)
    offsets = np.cumsum(largest) - largest  # first unit of each image
    units = np.repeat(offsets, per_image) + ids.ravel().take(where) - 1
    total = int(largest.sum())
    pixels = np.bincount(units, minlength=total)
    heat_sum = np.bincount(units, heat.ravel().take(where), minlength=total)
    tortuous_pixels = np.bincount(units, tortuous.ravel().take(where), minlength=total)
    present = pixels > 0
    unit_image = np.repeat(np.arange(count, dtype=np.int64), largest)[present]
    means = heat_sum[present] / pixels[present]
    is_tortuous = 2 * tortuous_pixels[present] > pixels[present]
    return rank_within_groups(means, unit_image, is_tortuous, count)


def segment_ranking(
    heatmaps: torch.Tensor, segments: torch.Tensor, vessels: torch.Tensor, tortuous_vessels: torch.Tensor
) -> GroupedRanking:
    """ROC-AUC per image of tortuous vs healthy segments ranked by mean heat.

    ``segments`` int [N, H, W] (ids 1..K per image, 0 off segments), ``vessels`` the
    vessel plane and ``tortuous_vessels`` bool, all [N, H, W]. ``positives`` and
    ``negatives`` count tortuous and healthy segments.
    """
    if not heatmaps.shape == segments.shape == vessels.shape == tortuous_vessels.shape or heatmaps.dim() != 3:
        raise ValueError(
            f"heatmaps {tuple(heatmaps.shape)}, vessel_segments {tuple(segments.shape)}, vessels "
            f"{tuple(vessels.shape)} and tortuous_vessels {tuple(tortuous_vessels.shape)} must be "
            "[N, H, W] of one shape"
        )
    heat = flat_numpy(heatmaps, torch.float32)
    ids = flat_numpy(segments, torch.int32)
    plane = flat_numpy(vessels, torch.float32)
    tortuous = flat_numpy(tortuous_vessels, torch.bool)
    parts = map_blocks(
        heat.shape[0], lambda rows: _block_ranking(heat[rows], ids[rows], plane[rows], tortuous[rows])
    )
    return concatenate_rankings(parts)


def shared_segment_ranking(context: ScoringContext) -> GroupedRanking:
    """:func:`segment_ranking` of ``context``, once per context; non-finite maps NaN."""

    def compute() -> GroupedRanking:
        planes = context.require("heatmaps", "vessel_segments", "vessels", "tortuous_vessels")
        ranking = segment_ranking(*planes)
        ranking.roc_auc[~finite_rows(context).numpy()] = np.nan
        return ranking

    return context.shared.get(("segment-ranking",), compute)


def _segment_auroc(context: ScoringContext, seed: int) -> torch.Tensor:
    return torch.from_numpy(shared_segment_ranking(context).roc_auc.copy())


def _segment_auroc_chance(context: ScoringContext, seed: int) -> torch.Tensor:
    ranking = shared_segment_ranking(context)
    defined = (ranking.positives > 0) & (ranking.negatives > 0)
    return torch.from_numpy(np.where(defined, 0.5, np.nan))


def specs() -> list[MetricSpec]:
    """``segment-auroc``."""
    return [
        MetricSpec(
            name="segment-auroc",
            kind="localization",
            higher_is_better=True,
            compute=_segment_auroc,
            chance=_segment_auroc_chance,
            bounds=(0.0, 1.0),
            version="1",
            params={},
            description=(
                "Among vessel segments: the chance that a tortuous segment's mean heat "
                "exceeds a healthy one's (ties 1/2); the vessel map scores exactly 1/2."
            ),
        )
    ]


@hookimpl
def ropbench_register_metrics() -> list[MetricSpec]:
    return specs()
