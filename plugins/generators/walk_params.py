"""Parameters of the random-walker geometry, in normalised image coordinates.

Lengths are fractions of the image side (the original's 600-px crop of a 1000-px grid),
so the same seed draws the same tree at any resolution. Defaults reproduce the original
study's generator (its final configuration, steps up to 10 % of its 1000-px grid); ``/600`` converts its pixel
constants.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any, Mapping

__all__ = ["WalkParams", "CLASSIC_WALK"]

_PX = 1.0 / 600.0  # one pixel of the original 600-px image


@dataclass(frozen=True)
class WalkParams:
    """Everything that shapes the vessel tree; every field is a generator parameter."""

    root_walkers: int = 6
    tortuous_roots: int = 4  # in ROP images; 0 in healthy ones
    max_moves: int = 15
    child_max_moves_multiplier: float = 0.5
    maturity_moves: int = 2
    reproduction_probability: float = 0.6
    child_reproduction_multiplier: float = 0.1
    tortuous_reproduction_multiplier: float = 0.75
    substeps: int = 3  # straight sub-steps per ordinary move
    step_length_min: float = 1 * _PX
    step_length_max: float = 29.7 * _PX
    small_turn_degrees: float = 15.0
    branch_turn_min_degrees: float = 15.0
    branch_turn_max_degrees: float = 90.0
    vector_field_weight: float = 0.05
    midpoint_weight: float = 0.01
    sink_strength: float = 10.0
    # Damped-sine tortuous moves.
    tortuous_probability: float = 0.1
    sine_periods: int = 2
    sine_samples_per_period: int = 16
    # The original draws from 1 px: bursts under ~20 px are invisible even at 600 px yet
    # marked tortuous, so the floor keeps every marked burst visible (and learnable).
    sine_wavelength_min: float = 20 * _PX
    sine_wavelength_max: float = 99 * _PX
    sine_amplitude_ratio: float = 0.5  # amplitude = ratio * wavelength * exp(-damping * age)
    sine_damping: float = 0.1
    # Widths (half-widths, as the original paints `width` on each side of the centreline).
    root_half_width: float = 3 * _PX
    child_width_multiplier: float = 0.5
    width_taper: float = -600.0 * math.log(0.99)  # per unit length: 1 % per original pixel
    sine_width_factor: float = 0.99**360  # per sine period: 360 painted steps of 1 %
    min_half_width: float = 1.75 * _PX  # the original paints thin vessels ~3-4 px wide
    artery_width_multiplier: float = 1.0
    vein_width_multiplier: float = 1.0
    # Where the optic disc (the field's source) may sit, per axis: [a, b] or [1-b, 1-a].
    source_band_min: float = 50 * _PX
    source_band_max: float = 200 * _PX
    start_offset: float = 10 * _PX  # roots start this far from the source
    world_margin: float = 1.0 / 3.0  # walkers die on leaving [-m, 1+m] (the 1000-px grid)

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> "WalkParams":
        """The walk fields found in a generator's parameter dict (others ignored)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in params.items() if k in names})

    def as_params(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


CLASSIC_WALK = WalkParams()
