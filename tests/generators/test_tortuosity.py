"""Tortuosity indices on curves whose values are known in closed form."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ropbench_plugins.generators.tortuosity import polyline_indices


def _indices(*curves: np.ndarray):
    x = np.concatenate([c[:, 0] for c in curves])
    y = np.concatenate([c[:, 1] for c in curves])
    vessel = np.concatenate([np.full(len(c), i) for i, c in enumerate(curves)])
    return polyline_indices(x, y, vessel, len(curves))


def _sine(periods: float, amplitude: float, samples: int = 4000) -> np.ndarray:
    t = np.linspace(0.0, 1.0, samples)
    return np.c_[t, amplitude * np.sin(2 * np.pi * periods * t)]


def test_straight_line_is_not_tortuous() -> None:
    line = np.c_[np.linspace(0, 1, 11), np.linspace(0, 0.5, 11)]
    result = _indices(line)
    assert result.arc_chord[0] == pytest.approx(1.0)
    assert result.inflections[0] == 0
    assert result.sum_of_angles[0] == pytest.approx(0.0, abs=1e-9)
    assert result.tortuosity_density[0] == pytest.approx(0.0, abs=1e-12)


def test_quarter_circle() -> None:
    angle = np.linspace(0, math.pi / 2, 2001)
    arc = np.c_[np.cos(angle), np.sin(angle)]
    result = _indices(arc)
    assert result.arc_chord[0] == pytest.approx((math.pi / 2) / math.sqrt(2), rel=1e-5)
    assert result.inflections[0] == 0  # one turn, no change of curvature sign
    assert result.sum_of_angles[0] == pytest.approx(1.0, rel=1e-3)  # (pi/2 rad) / (pi/2 length)
    assert result.tortuosity_density[0] == 0.0  # a single turn has no density by definition


def test_sine_counts_inflections_and_orders_indices() -> None:
    mild, strong = _sine(3, 0.02), _sine(3, 0.08)
    result = _indices(mild, strong)
    # Three periods: the curvature changes sign 5 times between the 6 half-waves.
    assert result.inflections.tolist() == [5, 5]
    assert result.arc_chord[0] < result.arc_chord[1]
    # arc/chord of a gentle sine is about 1 + (pi * A * f)^2
    assert result.arc_chord[0] - 1 == pytest.approx((math.pi * 0.02 * 3) ** 2, rel=0.05)
    for name in ("inflection_count", "sum_of_angles", "tortuosity_density"):
        values = getattr(result, name)
        assert values[0] < values[1], name
    assert result.inflection_count[1] == pytest.approx(6 * result.arc_chord[1])


def test_vessels_do_not_leak_into_each_other() -> None:
    alone = _indices(_sine(2, 0.05))
    together = _indices(np.c_[np.linspace(3, 4, 5), np.zeros(5)], _sine(2, 0.05))
    assert together.arc_chord[1] == pytest.approx(alone.arc_chord[0])
    assert together.tortuosity_density[1] == pytest.approx(alone.tortuosity_density[0])
    assert together.inflections[0] == 0
