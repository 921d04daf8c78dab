"""Per-image metadata: tortuosity indices per vessel and per image, JSON-ready."""

from __future__ import annotations

from typing import Any

import numpy as np

from .tortuosity import INDEX_NAMES, VesselIndices
from .walkers import ARTERY, VesselTree

__all__ = ["image_metadata"]

_DIGITS = 6  # rounding keeps the JSON small; indices are not meaningful beyond this


def _r(value: float) -> float:
    return round(float(value), _DIGITS)


def image_metadata(
    tree: VesselTree,
    indices: VesselIndices,
    image_index: np.ndarray,
    attempts: np.ndarray,
    severity: np.ndarray,
    reports_kinds: bool,
) -> tuple[dict[str, Any], ...]:
    """One dict per image: severity, length-weighted image indices, and per-vessel indices.

    Image indices are means over the image's vessels weighted by vessel length, so that a
    one-segment stub counts for little. Vessels are the walkers' polylines (whole, also
    where they run outside the image).
    """
    n = tree.n_images
    n_vessels = len(tree.vessel_image)
    drawn = indices.length > 0
    has_tortuous = np.bincount(
        tree.vertex_vessel, weights=tree.vertex_tortuous.astype(np.float64), minlength=n_vessels
    )[:n_vessels] > 0
    weight = np.where(drawn, indices.length, 0.0)
    total = np.bincount(tree.vessel_image, weights=weight, minlength=n)[:n]
    per_image = {
        name: np.bincount(tree.vessel_image, weights=weight * getattr(indices, name), minlength=n)[:n]
        / np.maximum(total, 1e-12)
        for name in INDEX_NAMES
    }
    columns = {name: getattr(indices, name) for name in INDEX_NAMES}
    out: list[dict[str, Any]] = []
    order = np.argsort(tree.vessel_image, kind="stable")
    bounds = np.searchsorted(tree.vessel_image[order], np.arange(n + 1))
    for i in range(n):
        vessels = []
        for v in order[bounds[i] : bounds[i + 1]]:
            if not drawn[v]:
                continue
            entry: dict[str, Any] = {name: _r(columns[name][v]) for name in INDEX_NAMES}
            entry["inflections"] = int(indices.inflections[v])
            entry["length"] = _r(indices.length[v])
            entry["tortuous"] = bool(has_tortuous[v])
            entry["generation"] = int(tree.vessel_generation[v])
            if reports_kinds:
                entry["kind"] = "artery" if tree.vessel_kind[v] == ARTERY else "vein"
            vessels.append(entry)
        record: dict[str, Any] = {
            "index": int(image_index[i]),
            "attempt": int(attempts[i]),
            "severity": _r(severity[i]),
            **{name: _r(per_image[name][i]) for name in INDEX_NAMES},
            "vessel_count": len(vessels),
            "tortuous_vessel_count": sum(v["tortuous"] for v in vessels),
            "optic_disc": [_r(tree.source[i, 0]), _r(tree.source[i, 1])],
            "vessels": vessels,
        }
        out.append(record)
    return tuple(out)
