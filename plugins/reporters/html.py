"""The ``html`` reporter: the run's self-contained HTML report (``report.html``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import pandas as pd

__all__ = ["write_html_report"]


def write_html_report(run_dir: Path, table: pd.DataFrame, manifest: Mapping[str, Any]) -> list[Path]:
    """Reads the run directory the runner has just written (results.csv, manifest.json),
    so the report is the same as a later ``ropbench report RUN_DIR``."""
    from ropbench.report import write_report

    return [write_report(Path(run_dir))]
