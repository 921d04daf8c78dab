"""The ``html`` reporter: the run's self-contained HTML report (``report.html``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Mapping

import pandas as pd

from ropbench import hookimpl
from ropbench.leaderboard import DEFAULT_RANKING
from ropbench.specs import ReporterSpec

__all__ = ["write_html_report", "ropbench_register_reporters"]


def write_html_report(run_dir: Path, table: pd.DataFrame, manifest: Mapping[str, Any], *,
                      rank_by: Iterable[str] = DEFAULT_RANKING) -> list[Path]:
    """Reads the run directory the runner has just written (results.csv, manifest.json),
    so the report is the same as a later ``ropbench report RUN_DIR``."""
    from ropbench.report import write_report

    return [write_report(Path(run_dir), rank_by=tuple(rank_by))]


@hookimpl
def ropbench_register_reporters() -> list[ReporterSpec]:
    return [ReporterSpec(
        name="html", write=write_html_report, params={"rank_by": list(DEFAULT_RANKING)},
        description="report.html: self-contained page with leaderboards, heatmap gallery, curves.",
    )]
