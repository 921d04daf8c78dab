"""attention-tortuosity-contrast: arc / chord of skeleton branches in the high- and
low-attention regions, on synthetic vessels."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ropbench_plugins.metrics.tortuosity_contrast import attention_contrast, branch_arc_chord

from ._helpers import localization_context, score

SIZE = 64


def test_arc_and_chord_of_hand_drawn_skeletons() -> None:
    skeleton = np.zeros((9, 12), dtype=bool)
    skeleton[1, 0:11] = True  # a straight branch of 11 pixels: arc 10, chord 10
    skeleton[3:8, 0] = True  # a vertical one of 5: arc 4, chord 4
    for i in range(5):  # a diagonal of 5 pixels from (3, 3): arc 4 sqrt 2, chord 4 sqrt 2
        skeleton[3 + i, 3 + i] = True
    arc, chord = branch_arc_chord(skeleton)
    order = np.argsort(arc)
    assert arc[order] == pytest.approx([4, 4 * math.sqrt(2), 10])
    assert chord[order] == pytest.approx([4, 4 * math.sqrt(2), 10])


def test_a_corner_is_walked_along() -> None:
    # A right-angle turn as scikit-image thins it (the corner cut diagonally, so every
    # pixel has two neighbours): (0,0)..(0,3), then (1,4)..(4,4). The path is 3 edge
    # steps, one diagonal, 3 edge steps; its ends are sqrt(32) apart.
    skeleton = np.zeros((6, 6), dtype=bool)
    skeleton[0, 0:4] = True
    skeleton[1:5, 4] = True
    arc, chord = branch_arc_chord(skeleton)
    assert arc.tolist() == pytest.approx([6 + math.sqrt(2)])
    assert chord.tolist() == pytest.approx([math.sqrt(32)])


def test_a_diagonal_that_shortcuts_two_edge_steps_is_not_a_step() -> None:
    # An L of three pixels (0,0) (0,1) (1,1): (0,0) and (1,1) are diagonal neighbours,
    # but the path goes through (0,1). Counted as a step, the L would be a closed loop
    # (every pixel two neighbours) and be dropped; as two edge steps it is a path with
    # ends (0,0) and (1,1): arc 2, chord sqrt 2.
    skeleton = np.zeros((4, 4), dtype=bool)
    skeleton[0, 0:2] = True
    skeleton[1, 1] = True
    arc, chord = branch_arc_chord(skeleton)
    assert arc.tolist() == pytest.approx([2.0])
    assert chord.tolist() == pytest.approx([math.sqrt(2)])


def test_loops_and_lone_pixels_have_no_chord() -> None:
    skeleton = np.zeros((11, 11), dtype=bool)
    # a thin octagonal ring: every pixel has two neighbours, no end pixel
    skeleton[1, 3:6] = skeleton[7, 3:6] = skeleton[3:6, 1] = skeleton[3:6, 7] = True
    skeleton[2, 2] = skeleton[2, 6] = skeleton[6, 2] = skeleton[6, 6] = True
    skeleton[10, 10] = True  # a lone pixel
    arc, chord = branch_arc_chord(skeleton)
    # 4 sides of 2 edge steps and 8 diagonal steps between them; the lone pixel: 0
    assert arc.tolist() == pytest.approx([8 + 8 * math.sqrt(2), 0.0])
    assert np.isnan(chord).all()


def _vessels(sine_cols: slice, straight_cols: slice) -> np.ndarray:
    """A sine-shaped vessel (amplitude 6 px, period 16 px) and a straight one, 3 px wide,
    running down the image in the given column bands."""
    plane = np.zeros((SIZE, SIZE), dtype=bool)
    rows = np.arange(4, SIZE - 4)
    sine_centre = (sine_cols.start + sine_cols.stop) // 2
    straight_centre = (straight_cols.start + straight_cols.stop) // 2
    for row in rows:
        col = int(round(sine_centre + 6 * math.sin(2 * math.pi * row / 16)))
        plane[row, col - 1 : col + 2] = True
        plane[row, straight_centre - 1 : straight_centre + 2] = True
    return plane


LEFT, RIGHT = slice(0, SIZE // 2), slice(SIZE // 2, SIZE)


def _heat(hot: slice) -> np.ndarray:
    heat = np.zeros((SIZE, SIZE), dtype=np.float32)
    heat[:, hot] = 1.0  # top 50% tied: the 90th percentile is 1, the 10th is 0
    return heat


def test_the_sine_vessel_under_the_heat_is_the_more_tortuous() -> None:
    vessels = _vessels(LEFT, RIGHT)
    assert attention_contrast(_heat(LEFT), vessels) == 1.0  # heat on the sine
    assert attention_contrast(_heat(RIGHT), vessels) == 0.0  # heat on the straight one


def test_no_vessel_in_a_region_is_not_scored() -> None:
    vessels = _vessels(LEFT, RIGHT)
    vessels[:, RIGHT] = False  # the low region (right half) holds no vessel
    assert math.isnan(attention_contrast(_heat(LEFT), vessels))
    nan_map = _heat(LEFT)
    nan_map[0, 0] = math.nan
    assert math.isnan(attention_contrast(nan_map, _vessels(LEFT, RIGHT)))


def test_short_branches_are_dropped() -> None:
    # a 6-px-long vessel in the low region has a branch shorter than the default 10 px
    vessels = _vessels(LEFT, RIGHT)
    vessels[:, RIGHT] = False
    vessels[30:36, 48:51] = True
    assert math.isnan(attention_contrast(_heat(LEFT), vessels))
    assert attention_contrast(_heat(LEFT), vessels, min_branch_length=2) == 1.0


def test_the_metric_reads_the_vessel_plane_and_ignores_the_target() -> None:
    vessels = torch.from_numpy(_vessels(LEFT, RIGHT)).float()
    heat = torch.from_numpy(np.stack([_heat(LEFT), _heat(RIGHT), np.exp(3 * _heat(LEFT))]))
    context = localization_context(
        heat, torch.zeros(3, SIZE, SIZE, dtype=torch.bool), vessels=vessels.expand(3, -1, -1)
    )
    # the third map is a strictly increasing transform of the first: the same regions
    assert score("attention-tortuosity-contrast", context).tolist() == [1.0, 0.0, 1.0]
