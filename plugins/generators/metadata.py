"""Per-image metadata: tortuosity indices per vessel and per image, JSON-ready."""

from __future__ import annotations

from typing import Any

import numpy as np

from .tortuosity import INDEX_NAMES, VesselIndices
from .walkers import ARTERY, VesselTree

__all__ = ["image_metadata"]

_DIGITS = 6  # rounding keeps the JSON small; indices are not meaningful beyond this


def _rounded(values: np.ndarray) -> list:
    """Rounded Python floats (one numpy call: per-scalar round() is slow)."""
    return np.round(np.asarray(values, dtype=np.float64), _DIGITS).tolist()


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
    columns = {name: _rounded(getattr(indices, name)) for name in INDEX_NAMES}
    lengths = _rounded(indices.length)
    inflections = indices.inflections.tolist()
    generation = tree.vessel_generation.tolist()
    is_artery = (tree.vessel_kind == ARTERY).tolist()
    tortuous = has_tortuous.tolist()
    image_values = {name: _rounded(per_image[name]) for name in INDEX_NAMES}
    severity_values = _rounded(severity)
    source = _rounded(tree.source)
    out: list[dict[str, Any]] = []
    order = np.argsort(tree.vessel_image, kind="stable")
    bounds = np.searchsorted(tree.vessel_image[order], np.arange(n + 1))
    for i in range(n):
        vessels = []
        for v in order[bounds[i] : bounds[i + 1]].tolist():
            if not drawn[v]:
                continue
            entry: dict[str, Any] = {name: columns[name][v] for name in INDEX_NAMES}
            entry["inflections"] = inflections[v]
            entry["length"] = lengths[v]
            entry["tortuous"] = tortuous[v]
            entry["generation"] = generation[v]
            if reports_kinds:
                entry["kind"] = "artery" if is_artery[v] else "vein"
            vessels.append(entry)
        record: dict[str, Any] = {
            "index": int(image_index[i]),
            "attempt": int(attempts[i]),
            "severity": severity_values[i],
            **{name: image_values[name][i] for name in INDEX_NAMES},
            "vessel_count": len(vessels),
            "tortuous_vessel_count": sum(v["tortuous"] for v in vessels),
            "optic_disc": source[i],
            "vessels": vessels,
        }
        out.append(record)
    return tuple(out)
