"""The ``markdown`` and ``csv`` reporters: a run's leaderboard for people and for
``ropbench check``."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Mapping

import pandas as pd

from ropbench import hookimpl
from ropbench.leaderboard import DEFAULT_RANKING, run_leaderboard_markdown, summarise
from ropbench.results import FLOAT_FORMAT
from ropbench.specs import ReporterSpec

__all__ = ["write_markdown_leaderboard", "write_csv_leaderboard", "ropbench_register_reporters"]


def write_markdown_leaderboard(run_dir: Path, table: pd.DataFrame, manifest: Mapping[str, Any], *,
                               rank_by: Iterable[str] = DEFAULT_RANKING) -> list[Path]:
    path = Path(run_dir) / "leaderboard.md"
    path.write_text(run_leaderboard_markdown(table, manifest, rank_by), encoding="utf-8")
    return [path]


def write_csv_leaderboard(run_dir: Path, table: pd.DataFrame, manifest: Mapping[str, Any]) -> list[Path]:
    """The summary with a last column ``control``: whether the row is a reference (a
    control explainer or classifier) rather than an entry."""
    from ropbench.report.controls import Controls

    path = Path(run_dir) / "leaderboard.csv"
    summary = summarise(table, Controls.from_manifest(manifest))
    summary.to_csv(path, index=False, float_format=FLOAT_FORMAT, lineterminator="\n")
    return [path]


@hookimpl
def ropbench_register_reporters() -> list[ReporterSpec]:
    return [
        ReporterSpec(
            name="markdown", write=write_markdown_leaderboard, params={"rank_by": list(DEFAULT_RANKING)},
            description="leaderboard.md: mean ± std over seeds per generator and metric kind.",
        ),
        ReporterSpec(
            name="csv", write=write_csv_leaderboard,
            description="leaderboard.csv: the same summary, one row per metric; a regression baseline.",
        ),
    ]
