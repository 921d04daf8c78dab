"""Writing a run's leaderboard as markdown (for people) and CSV (for ``ropbench check``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from ropbench.leaderboard import leaderboard_markdown, summarise
from ropbench.results import FLOAT_FORMAT

__all__ = ["write_markdown_leaderboard", "write_csv_leaderboard", "DEFAULT_RANKING"]

# Which metric ranks each table when the suite has it: the original study's headline.
DEFAULT_RANKING = ("accuracy", "relevance-mass", "percentile-precision@90", "deletion-auc")


def _preamble(manifest: Mapping[str, Any]) -> str:
    suite = manifest.get("suite", {})
    seeds = ", ".join(str(s) for s in manifest.get("seeds", []))
    return (
        f"Suite `{suite.get('name', '?')}` ({suite.get('description', '')}); "
        f"seeds {seeds}; image size {suite.get('image_size', '?')} px; "
        f"ropbench {manifest.get('ropbench_version', '?')}. "
        "Cells show mean ± std over seeds (std omitted for one seed). "
        f"Regenerate with `ropbench run --suite {suite.get('name', '?')}`."
    )


def write_markdown_leaderboard(run_dir: Path, table: pd.DataFrame, manifest: Mapping[str, Any]) -> list[Path]:
    path = Path(run_dir) / "leaderboard.md"
    title = f"ropbench leaderboard: {manifest.get('suite', {}).get('name', 'run')}"
    text = leaderboard_markdown(summarise(table), title=title, rank_by=DEFAULT_RANKING,
                                preamble=_preamble(manifest))
    path.write_text(text, encoding="utf-8")
    return [path]


def write_csv_leaderboard(run_dir: Path, table: pd.DataFrame, manifest: Mapping[str, Any]) -> list[Path]:
    path = Path(run_dir) / "leaderboard.csv"
    summarise(table).to_csv(path, index=False, float_format=FLOAT_FORMAT, lineterminator="\n")
    return [path]
