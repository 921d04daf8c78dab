"""The self-contained HTML report of a run: ``ropbench report RUN_DIR``.

One file, openable offline and attachable to an issue: CSS inline, pictures inlined as
base64 PNG, charts as inline SVG, no script or font from the network. It opens with one
chart per generator (each explanation's prior-controlled score against the random map,
the vessel prior and the oracle), then the boards, the percentile tables, the original
study's format, a heatmap gallery, confusion matrices and the run's manifest.

The package is imported lazily: :mod:`ropbench.leaderboard` uses its torch-free board
modules (:mod:`.boards`, :mod:`.study`) without pulling in the picture code.
"""

from __future__ import annotations

from typing import Any

__all__ = ["render_report", "write_report", "load_run", "RunData"]

_HOMES = {"render_report": "page", "write_report": "page", "load_run": "rundata", "RunData": "rundata"}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f"{__name__}.{_HOMES[name]}"), name)
