"""``rw-classic``: the original study's images, white vessels on black."""

from __future__ import annotations

from typing import Any, Mapping

import torch

from .pipeline import PAIRING_DEFAULTS, Coverage, Variant
from .walk_params import CLASSIC_WALK

__all__ = ["CLASSIC"]


def paint_white_on_black(coverage: Coverage, params: Mapping[str, Any]) -> torch.Tensor:
    """Vessel coverage as grey levels, the same in all three channels."""
    grey = torch.round(coverage.vessels * 255.0).to(torch.uint8)
    return grey[:, None].expand(-1, 3, -1, -1).contiguous()


CLASSIC = Variant(
    name="rw-classic",
    version="2",  # 2: twins bow their healthy stretches (twin_ink)
    description=(
        "Random-walker retinas as in the original study: white vessels on black, 6 roots "
        "(4 tortuous in ROP images) making damped two-period sine moves."
    ),
    defaults=CLASSIC_WALK.as_params() | PAIRING_DEFAULTS,
    paint=paint_white_on_black,
)
