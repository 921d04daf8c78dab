"""``rw-graded``: tortuosity as a continuous, recorded severity, calibrated to the clinic.

Every vessel wiggles: a sine displacement perpendicular to the walker's path, whose
amplitude is set from a target excess arc/chord (for a sine, arc/chord - 1 is about
(pi * amplitude / wavelength)^2) and ramps up with distance from the optic disc.
Healthy arteries get targets of 1.05-1.11, veins less; in ROP images the diseased
vessels (``tortuous_roots`` of the roots and their branches) add ``severity`` times up
to 0.09 more beyond an onset distance, so plus disease reaches about 1.20. Per-image
severity is drawn in [severity_min, 1] x ``severity``, so mild ROP overlaps healthy
variation: the classes are not trivially separable, and difficulty is a dial.

The tortuous region is where a diseased vessel's disease ramp is past half way.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping

import numpy as np

from . import rng
from .classic import paint_white_on_black
from .pipeline import PAIRING_DEFAULTS, Variant
from .walk_params import CLASSIC_WALK
from .walkers import ARTERY, VesselTree

__all__ = ["GRADED", "wiggle_tree", "image_severity"]

_S_SEVERITY, _S_VESSEL = 400, 401

GRADED_DEFAULTS: dict[str, Any] = CLASSIC_WALK.as_params() | {
    # No damped-sine bursts: tortuosity comes from the graded wiggle only.
    "tortuous_probability": 0.0,
    # Shorter, straighter walks: whole-vessel arc/chord then measures the wiggle, not the arc.
    "step_length_max": 0.0245,
    "vector_field_weight": 0.03,
    "small_turn_degrees": 4.0,
    "sine_width_factor": 1.0,
    "width_taper": 2.0,
    "root_half_width": 0.006,
    "child_width_multiplier": 0.6,
    "min_half_width": 0.0012,
    "artery_width_multiplier": 0.85,
    "vein_width_multiplier": 1.15,
    # The graded wiggle.
    "severity": 1.0,
    "severity_min": 0.25,
    "artery_excess_min": 0.04,
    "artery_excess_max": 0.09,
    "vein_excess_min": 0.015,
    "vein_excess_max": 0.05,
    "disease_excess": 0.12,
    "wavelength_min": 0.035,
    "wavelength_max": 0.07,
    "healthy_ramp_distance": 0.15,  # healthy wiggle reaches full amplitude this far from the disc
    "disease_onset_distance": 0.12,  # disease starts here and is full 0.15 further out
    "disease_ramp_distance": 0.15,
    "samples_per_wavelength": 12,
}


def image_severity(keys: np.ndarray, rop: np.ndarray, params: Mapping[str, Any]) -> np.ndarray:
    """Per-image severity: 0 for healthy images, severity x U(severity_min, 1) for ROP."""
    draw = rng.uniform_between(float(params["severity_min"]), 1.0, keys, _S_SEVERITY)
    return np.where(rop, float(params["severity"]) * draw, 0.0)


def _resample(tree: VesselTree, spacing: float):
    """Vertices every <= ``spacing`` along each polyline (straight pieces are split).

    Returns x, y, half-width, vessel, the plain x, y (the same pieces of the plain path)
    and whether the disease moved the vertex (a piece of a segment ending at a moved vertex).
    """
    x, y, hw, vessel = tree.vertex_x, tree.vertex_y, tree.vertex_half_width, tree.vertex_vessel
    seg = np.flatnonzero(vessel[1:] == vessel[:-1])
    pieces = np.maximum(np.ceil(np.hypot(x[seg + 1] - x[seg], y[seg + 1] - y[seg]) / spacing), 1).astype(np.int64)
    owner = np.repeat(seg, pieces)
    t = (np.arange(len(owner)) - np.repeat(np.cumsum(pieces) - pieces, pieces) + 1) / np.repeat(pieces, pieces)
    first = np.r_[True, vessel[1:] != vessel[:-1]]
    new = lambda a: np.r_[a[first], a[owner] + (a[owner + 1] - a[owner]) * t]  # noqa: E731
    order = np.lexsort((np.r_[np.flatnonzero(first).astype(float), owner + t], np.r_[vessel[first], vessel[owner]]))
    diseased = np.r_[tree.vertex_diseased[first], tree.vertex_diseased[owner + 1]]
    return (
        new(x)[order], new(y)[order], new(hw)[order], np.r_[vessel[first], vessel[owner]][order],
        new(tree.vertex_plain_x)[order], new(tree.vertex_plain_y)[order], diseased[order],
    )


def _along(x: np.ndarray, y: np.ndarray, same: np.ndarray):
    """Arc length from each vessel's start, and the unit normal of the path at each vertex."""
    step = np.where(same, np.hypot(np.diff(x, prepend=x[0]), np.diff(y, prepend=y[0])), 0.0)
    arc = np.cumsum(step)
    arc -= np.maximum.accumulate(np.where(same, 0.0, arc))  # restart at each vessel
    # Direction of the base path at each vertex (the segment ending there, or starting).
    dx = np.where(same, np.diff(x, prepend=x[0]), np.r_[np.diff(x), 0.0])
    dy = np.where(same, np.diff(y, prepend=y[0]), np.r_[np.diff(y), 0.0])
    norm = np.maximum(np.hypot(dx, dy), 1e-12)
    return arc, -dy / norm, dx / norm


def wiggle_tree(tree: VesselTree, keys: np.ndarray, rop: np.ndarray, params: Mapping[str, Any]) -> VesselTree:
    """The tree with every vessel displaced by its graded sine wiggle.

    The plain positions are the same vessels with the healthy wiggle only (and any sine
    move straightened): the disease is the extra wiggle of the diseased vessels.
    """
    vkey = rng.combine(tree.vessel_key, _S_VESSEL)  # keyed by walker, never by chunk position
    wavelength = rng.uniform_between(float(params["wavelength_min"]), float(params["wavelength_max"]), vkey, 0)
    phase = rng.uniform_between(0.0, 2 * np.pi, vkey, 1)
    artery = tree.vessel_kind == ARTERY
    healthy = np.where(
        artery,
        rng.uniform_between(float(params["artery_excess_min"]), float(params["artery_excess_max"]), vkey, 2),
        rng.uniform_between(float(params["vein_excess_min"]), float(params["vein_excess_max"]), vkey, 2),
    )
    severity = image_severity(keys, rop, params)[tree.vessel_image]
    disease = np.where(tree.vessel_tortuous, severity * float(params["disease_excess"]), 0.0)

    spacing = float(params["wavelength_min"]) / int(params["samples_per_wavelength"])
    x, y, hw, vessel, plain_x, plain_y, moved = _resample(tree, spacing)
    same = np.r_[False, vessel[1:] == vessel[:-1]]
    arc, nx, ny = _along(x, y, same)

    source = tree.source[tree.vessel_image[vessel]]
    distance = np.hypot(x - source[:, 0], y - source[:, 1])
    healthy_ramp = np.clip(distance / float(params["healthy_ramp_distance"]), 0.0, 1.0)
    disease_ramp = np.clip(
        (distance - float(params["disease_onset_distance"])) / float(params["disease_ramp_distance"]), 0.0, 1.0
    )
    healthy_excess = healthy[vessel] * healthy_ramp
    excess = healthy_excess + disease[vessel] * disease_ramp
    amplitude = wavelength[vessel] / np.pi * np.sqrt(excess)
    offset = amplitude * np.sin(2 * np.pi * arc / wavelength[vessel] + phase[vessel])

    # The plain path: its own arc and normals when a sine move made it differ.
    if not (np.array_equal(plain_x, x) and np.array_equal(plain_y, y)):
        arc, nx_plain, ny_plain = _along(plain_x, plain_y, same)
    else:
        nx_plain, ny_plain = nx, ny
    plain_amplitude = wavelength[vessel] / np.pi * np.sqrt(healthy_excess)
    plain_offset = plain_amplitude * np.sin(2 * np.pi * arc / wavelength[vessel] + phase[vessel])

    # The region does not depend on severity's size: at severity 0 the dial reads 'no signal'.
    tortuous = tree.vessel_tortuous[vessel] & (disease_ramp > 0.5)
    return replace(
        tree, vertex_x=x + offset * nx, vertex_y=y + offset * ny, vertex_half_width=hw,
        vertex_vessel=vessel, vertex_tortuous=tortuous & same,
        vertex_plain_x=plain_x + plain_offset * nx_plain, vertex_plain_y=plain_y + plain_offset * ny_plain,
        vertex_diseased=moved | (disease[vessel] * disease_ramp > 0),
    )


GRADED = Variant(
    name="rw-graded",
    version="1",
    description=(
        "Random-walker retinas whose every vessel is mildly tortuous (healthy arteries "
        "arc/chord 1.05-1.11, veins less, growing with distance from the disc); ROP adds a "
        "recorded, continuous severity up to about 1.20. Harder on purpose."
    ),
    defaults=GRADED_DEFAULTS | PAIRING_DEFAULTS,
    paint=paint_white_on_black,
    shape=wiggle_tree,
    geometry_salt="rw-graded",
    reports_kinds=True,
    severity=image_severity,
)
