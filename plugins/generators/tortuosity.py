"""Clinical tortuosity indices of polylines, for all vessels of a chunk at once.

- distance metric (``arc_chord``): arc length / chord length;
- inflection count metric (``inflection_count``): (inflection points + 1) x arc/chord
  (Hart et al. 1999);
- sum-of-angles metric (``sum_of_angles``): total absolute turning angle per unit
  length, in radians per image side (Bullitt et al. 2003);
- tortuosity density (``tortuosity_density``): the curve is cut at inflection points
  into n turns; (n - 1) / n x 1 / length x sum(turn arc / turn chord - 1)
  (Grisan et al. 2008).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["VesselIndices", "polyline_indices", "INDEX_NAMES"]

INDEX_NAMES = ("arc_chord", "inflection_count", "sum_of_angles", "tortuosity_density")

# Turns smaller than this (radians) are straight: no curvature sign to change.
_STRAIGHT = 1e-6


@dataclass
class VesselIndices:
    """Per-vessel indices, one entry per vessel id in ``0 .. n_vessels - 1``."""

    length: np.ndarray
    chord: np.ndarray
    arc_chord: np.ndarray
    inflections: np.ndarray
    inflection_count: np.ndarray
    sum_of_angles: np.ndarray
    tortuosity_density: np.ndarray


def _sum_by(group: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    return np.bincount(group, weights=values, minlength=size)[:size]


def polyline_indices(x: np.ndarray, y: np.ndarray, vessel: np.ndarray, n_vessels: int) -> VesselIndices:
    """Indices of polylines given as vertices grouped by ``vessel`` and ordered along it."""
    same = vessel[1:] == vessel[:-1]
    seg = np.flatnonzero(same)  # segment k runs from vertex k to k+1
    sx, sy = x[seg + 1] - x[seg], y[seg + 1] - y[seg]
    seg_len = np.hypot(sx, sy)
    seg_vessel = vessel[seg]
    length = _sum_by(seg_vessel, seg_len, n_vessels)

    first = np.full(n_vessels, -1)
    last = np.full(n_vessels, -1)
    order = np.arange(len(vessel))
    first[vessel[::-1]] = order[::-1]
    last[vessel] = order
    valid = first >= 0
    chord = np.where(valid, np.hypot(x[last] - x[first], y[last] - y[first]), 0.0)
    arc_chord = np.where(chord > 0, length / np.maximum(chord, 1e-12), 1.0)

    # Turning angles between consecutive segments of one vessel, skipping zero-length ones.
    keep = seg_len > 0
    seg, sx, sy, seg_vessel, seg_len_kept = seg[keep], sx[keep], sy[keep], seg_vessel[keep], seg_len[keep]
    pair = seg_vessel[1:] == seg_vessel[:-1]
    cross = sx[:-1] * sy[1:] - sy[:-1] * sx[1:]
    dot = sx[:-1] * sx[1:] + sy[:-1] * sy[1:]
    angle = np.where(pair, np.arctan2(cross, dot), 0.0)
    sum_of_angles = _sum_by(seg_vessel[1:], np.abs(angle), n_vessels) / np.maximum(length, 1e-12)

    # Inflections: the curvature sign changes between consecutive bent turns of one vessel.
    bent = np.flatnonzero(pair & (np.abs(angle) > _STRAIGHT))
    sign = np.sign(angle[bent])
    flips = (sign[1:] != sign[:-1]) & (seg_vessel[bent[1:]] == seg_vessel[bent[:-1]])
    inflections = np.bincount(seg_vessel[bent[1:]][flips], minlength=n_vessels)[:n_vessels]
    inflection_count = (inflections + 1) * arc_chord

    # Tortuosity density: cut each vessel into turns at its inflections. A flip at turn
    # position bent[k+1] starts a new turn with segment bent[k+1] + 1.
    starts = np.zeros(len(seg), np.int64)
    starts[bent[1:][flips] + 1] = 1
    new_vessel = np.r_[1, (seg_vessel[1:] != seg_vessel[:-1]).astype(np.int64)] if len(seg) else starts
    turn_id = np.cumsum(np.maximum(starts, new_vessel)) - 1
    n_turns = int(turn_id[-1]) + 1 if len(turn_id) else 0
    turn_len = _sum_by(turn_id, seg_len_kept, n_turns)
    turn_first = np.full(n_turns, -1)
    turn_last = np.full(n_turns, -1)
    turn_first[turn_id[::-1]] = seg[::-1]
    turn_last[turn_id] = seg + 1
    turn_chord = np.hypot(x[turn_last] - x[turn_first], y[turn_last] - y[turn_first]) if n_turns else np.zeros(0)
    turn_excess = np.where(turn_chord > 0, turn_len / np.maximum(turn_chord, 1e-12) - 1.0, 0.0)
    turn_vessel = np.zeros(n_turns, np.int64)
    turn_vessel[turn_id] = seg_vessel
    excess = _sum_by(turn_vessel, turn_excess, n_vessels)
    turns = inflections + 1
    tortuosity_density = (turns - 1) / turns * excess / np.maximum(length, 1e-12)

    return VesselIndices(
        length=length, chord=chord, arc_chord=arc_chord, inflections=inflections,
        inflection_count=inflection_count, sum_of_angles=sum_of_angles,
        tortuosity_density=tortuosity_density,
    )
