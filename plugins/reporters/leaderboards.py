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


def _regenerate_command(manifest: Mapping[str, Any]) -> str:
    """The command that reproduces the run: a shipped suite by name, else its file."""
    from ropbench.suite import shipped_suites

    name = manifest.get("suite", {}).get("name", "?")
    suite_file = manifest.get("suite_file", {}).get("file", "")
    shipped = shipped_suites().get(name)
    if shipped is not None and suite_file and Path(suite_file).resolve() == shipped.resolve():
        return f"ropbench run --suite {name}"
    return f"ropbench run --suite {suite_file or name}"


def _preamble(manifest: Mapping[str, Any]) -> str:
    suite = manifest.get("suite", {})
    seeds = ", ".join(str(s) for s in manifest.get("seeds", []))
    return (
        f"Suite `{suite.get('name', '?')}` ({suite.get('description', '')}); "
        f"seeds {seeds}; image size {suite.get('image_size', '?')} px; "
        f"ropbench {manifest.get('ropbench_version', '?')}. "
        "Cells show mean ± std over seeds (std omitted for one seed). "
        f"Regenerate with `{_regenerate_command(manifest)}`."
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
