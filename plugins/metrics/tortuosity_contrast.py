"""The study's mask-free analysis (``attention-tortuosity-contrast``): are the vessels the
heatmap attends to more tortuous than the ones it ignores?

No ground-truth mask is read: only the heatmap and the vessel pixels S
(:func:`ropbench.vessels.vessel_pixels` of ``context.vessels``). Per image:

1. high region = heat >= its ``percentile``-th percentile (default 90), low region =
   heat <= its ``low_percentile``-th percentile (default 10), both ``np.percentile``
   with linear interpolation, ties included;
2. skeletonise S inside each region (scikit-image), split each skeleton into branches at
   its junctions (:func:`ropbench.vessels.skeleton_branches`: a junction pixel has 3 or
   more skeleton neighbours in 8-connectivity);
3. per branch: arc = its path length (a step to an edge neighbour counts 1, a diagonal
   step sqrt(2), a diagonal that shortcuts two edge steps of the branch is not a step),
   chord = the distance between its two end pixels; branches with an arc shorter than
   ``min_branch_length`` pixels (default 10) are dropped, and so are closed loops and
   isolated pixels (no two ends);
4. tortuosity of a region = the mean arc / chord over its branches;
5. value = 1 if the high region's tortuosity is larger than the low region's, else 0
   (a tie is 0: not more tortuous).

NaN when either region keeps no branch or the map has a NaN or infinite value. The mean
over images is the share of images whose high-attention vessels are more tortuous, the
study's count. Invariant under strictly increasing transforms of the map (the regions
are percentile sets).

``min_branch_length`` drops skeleton spurs and digitisation: a straight digital line
reads arc / chord of 1 to 1.08, but a 3-pixel spur can read up to 1.4.

Chance: none is declared (``chance`` is None). A uniformly random map's regions are
salt-and-pepper sets of 10 % of the pixels: the vessel pixels inside them are scattered,
their skeletons have no branch of 10 pixels, and the image is NaN; the board's
``random`` row is the reference instead. A smooth random map has no closed form either:
docs/metrics.md gives a Monte-Carlo figure.

Cost: a loop over images (skeletonisation is per image), two skeletons per image.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ropbench import hookimpl
from ropbench.specs import MetricSpec, ScoringContext
from ropbench.vessels import skeleton_branches, vessel_pixels
from ropbench_plugins.metrics._context import finite_rows, flat_numpy

__all__ = ["ropbench_register_metrics", "branch_arc_chord", "region_tortuosity", "attention_contrast", "specs"]

_SQRT2 = math.sqrt(2.0)


def branch_arc_chord(skeleton: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(arc, chord) float64 [K] of each branch of a one-pixel-wide ``skeleton`` [H, W].

    Chord is NaN for a branch without exactly two end pixels (a loop, a lone pixel).
    """
    labels, count = skeleton_branches(skeleton)
    arc = np.zeros(count + 1)
    degree = np.zeros(labels.shape, dtype=np.int64)
    # Edge steps: right and down neighbours of the same branch.
    for rows, cols, other_rows, other_cols in (
        (slice(None), slice(None, -1), slice(None), slice(1, None)),
        (slice(None, -1), slice(None), slice(1, None), slice(None)),
    ):
        first, second = labels[rows, cols], labels[other_rows, other_cols]
        same = (first == second) & (first > 0)
        arc += np.bincount(first[same], minlength=count + 1)
        degree[rows, cols] += same
        degree[other_rows, other_cols] += same
    # Diagonal steps, unless one of the two pixels both touch is on the branch (then the
    # path goes through it: two edge steps, already counted).
    inner, outer = slice(None, -1), slice(1, None)
    for first_cols, second_cols in ((inner, outer), (outer, inner)):
        first, second = labels[inner, first_cols], labels[outer, second_cols]
        corner_a, corner_b = labels[inner, second_cols], labels[outer, first_cols]
        same = (first == second) & (first > 0) & (corner_a != first) & (corner_b != first)
        arc += _SQRT2 * np.bincount(first[same], minlength=count + 1)
        degree[inner, first_cols] += same
        degree[outer, second_cols] += same
    end_rows, end_cols = np.nonzero((labels > 0) & (degree == 1))
    end_labels = labels[end_rows, end_cols]
    ends = np.bincount(end_labels, minlength=count + 1)
    chord = np.full(count + 1, np.nan)
    order = np.argsort(end_labels, kind="stable")
    paired = ends[end_labels[order]] == 2
    first_end = order[paired][0::2]
    second_end = order[paired][1::2]
    chord[end_labels[first_end]] = np.hypot(
        end_rows[first_end] - end_rows[second_end], end_cols[first_end] - end_cols[second_end]
    )
    return arc[1:], chord[1:]


def region_tortuosity(vessel_in_region: np.ndarray, min_branch_length: float) -> float:
    """Mean arc / chord over the branches of the skeleton of ``vessel_in_region`` [H, W]
    whose arc is at least ``min_branch_length``; NaN without such a branch."""
    from skimage.morphology import skeletonize

    if not vessel_in_region.any():
        return math.nan
    arc, chord = branch_arc_chord(skeletonize(vessel_in_region))
    kept = (arc >= min_branch_length) & np.isfinite(chord) & (chord > 0)
    return float(np.mean(arc[kept] / chord[kept])) if kept.any() else math.nan


def attention_contrast(
    heatmap: np.ndarray,
    vessel: np.ndarray,
    percentile: float = 90.0,
    low_percentile: float = 10.0,
    min_branch_length: float = 10.0,
) -> float:
    """1.0 if the vessels in ``heatmap``'s high region are more tortuous than those in
    its low region, 0.0 if not, NaN if either region keeps no branch (one image [H, W])."""
    heatmap = np.asarray(heatmap, dtype=np.float32)
    if not np.isfinite(heatmap).all():
        return math.nan
    high = heatmap >= np.percentile(heatmap, percentile)
    low = heatmap <= np.percentile(heatmap, low_percentile)
    high_tortuosity = region_tortuosity(vessel & high, min_branch_length)
    low_tortuosity = region_tortuosity(vessel & low, min_branch_length)
    if math.isnan(high_tortuosity) or math.isnan(low_tortuosity):
        return math.nan
    return 1.0 if high_tortuosity > low_tortuosity else 0.0


def _contrast(
    context: ScoringContext,
    seed: int,
    percentile: float = 90.0,
    low_percentile: float = 10.0,
    min_branch_length: float = 10.0,
) -> torch.Tensor:
    heatmaps, vessel_plane = context.require("heatmaps", "vessels")
    count, height, width = heatmaps.shape
    maps = flat_numpy(heatmaps, torch.float32).reshape(count, height, width)
    vessels = flat_numpy(vessel_pixels(vessel_plane), torch.bool).reshape(count, height, width)
    finite = finite_rows(context).numpy()
    values = np.full(count, np.nan)
    for index in np.flatnonzero(finite):  # skeletons are per image
        values[index] = attention_contrast(
            maps[index], vessels[index], float(percentile), float(low_percentile), float(min_branch_length)
        )
    return torch.from_numpy(values)


def specs() -> list[MetricSpec]:
    """``attention-tortuosity-contrast``."""
    return [
        MetricSpec(
            name="attention-tortuosity-contrast",
            kind="localization",
            higher_is_better=True,
            compute=_contrast,
            chance=None,
            bounds=(0.0, 1.0),
            version="1",
            params={"percentile": 90.0, "low_percentile": 10.0, "min_branch_length": 10.0},
            description=(
                "The study's mask-free check: 1 when the skeleton branches of the vessels in the "
                "heatmap's top 10% have a larger mean arc/chord than those in its bottom 10%."
            ),
        )
    ]


@hookimpl
def ropbench_register_metrics() -> list[MetricSpec]:
    return specs()
