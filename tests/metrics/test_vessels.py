"""Vessel segments on hand-drawn shapes: the skeleton split at its junctions."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from ropbench.vessels import VESSEL_THRESHOLD, skeleton_branches, vessel_pixels, vessel_segments


def _segments(*strokes: tuple[slice, slice], size: int = 32) -> np.ndarray:
    """Segments of one image whose vessels are the given (rows, cols) rectangles (3 px
    thick strokes, so the skeleton is a real thinning, not the drawing itself)."""
    plane = torch.zeros(1, size, size)
    for rows, cols in strokes:
        plane[0, rows, cols] = 1.0
    return vessel_segments(plane)[0].numpy()


def _ids(segments: np.ndarray) -> list[int]:
    return sorted(set(np.unique(segments).tolist()) - {0})


@pytest.mark.parametrize(
    "strokes, expected",
    [
        # a straight bar: one branch, no junction
        ([(slice(14, 17), slice(3, 29))], 1),
        # a T: the bar and the stem meet at one junction -> left arm, right arm, stem
        ([(slice(4, 7), slice(3, 29)), (slice(4, 29), slice(14, 17))], 3),
        # a plus: four arms around one junction
        ([(slice(14, 17), slice(2, 30)), (slice(2, 30), slice(14, 17))], 4),
        # two disjoint bars: two branches
        ([(slice(5, 8), slice(3, 29)), (slice(22, 25), slice(3, 29))], 2),
    ],
)
def test_hand_drawn_shapes(strokes, expected: int) -> None:
    segments = _segments(*strokes)
    assert _ids(segments) == list(range(1, expected + 1))  # ids 1..K within the image
    vessel = segments.copy()
    plane = np.zeros_like(vessel, dtype=bool)
    for rows, cols in strokes:
        plane[rows, cols] = True
    assert (segments[plane] > 0).all(), "every vessel pixel belongs to a segment"
    assert (segments[~plane] == 0).all(), "no segment off the vessels"


def test_an_image_without_vessels_is_all_zeros_and_ids_restart_per_image() -> None:
    planes = torch.zeros(3, 20, 20)
    planes[0, 9:12, 2:18] = 1.0  # a bar
    planes[2, 2:18, 9:12] = 1.0  # another bar, in another image
    segments = vessel_segments(planes)
    assert segments.dtype == torch.int32 and segments.shape == (3, 20, 20)
    assert _ids(segments[0].numpy()) == [1]
    assert not segments[1].any()
    assert _ids(segments[2].numpy()) == [1]


def test_the_vessel_threshold_decides_which_pixels_get_a_segment() -> None:
    plane = torch.zeros(1, 12, 12)
    plane[0, 5:7, 1:11] = VESSEL_THRESHOLD  # exactly half covered: a vessel
    plane[0, 9, 1:11] = VESSEL_THRESHOLD - 0.01  # faint fringe: not a vessel
    segments = vessel_segments(plane)[0]
    assert torch.equal(segments > 0, vessel_pixels(plane)[0])


def test_branches_of_a_skeleton_drawn_by_hand() -> None:
    # A one-pixel T: bar on row 2, stem on column 4. The junction cluster is the bar
    # pixels next to the stem and the stem's first pixel (each has 3+ neighbours):
    # (2,3), (2,4), (2,5), (3,4); what is left is the left arm, the right arm, the stem.
    skeleton = np.zeros((8, 9), dtype=bool)
    skeleton[2, 0:9] = True
    skeleton[2:8, 4] = True
    labels, count = skeleton_branches(skeleton)
    assert count == 3
    assert (labels[2, [3, 4, 5]] == 0).all() and labels[3, 4] == 0
    assert len({labels[2, 0], labels[2, 8], labels[7, 4]}) == 3


@settings(max_examples=20, deadline=None)
@given(st.lists(st.booleans(), min_size=144, max_size=144))
def test_random_vessels_are_all_covered_and_nothing_else(bits) -> None:
    plane = torch.tensor(bits, dtype=torch.float32).reshape(1, 12, 12)
    segments = vessel_segments(plane)[0]
    assert torch.equal(segments > 0, plane[0] > 0)
    ids = _ids(segments.numpy())
    assert ids == list(range(1, len(ids) + 1))
