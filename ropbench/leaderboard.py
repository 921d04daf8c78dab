"""Leaderboards: results summarised over seeds (mean ± std), laid out as boards that lead
with what survives the vessel prior, as markdown or CSV.

The board layout (which tables, control rows, the verdict) lives in
:mod:`ropbench.report.boards`, shared with the HTML report; this module summarises and
writes markdown.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Mapping

import pandas as pd
from tabulate import tabulate

from ropbench.registry import natural_key
from ropbench.report.boards import BoardData, BoardTable, format_mean_std, generator_board, threshold_tables
from ropbench.report.controls import Controls
from ropbench.report.verdict import VERDICT_HEADER, prior_verdicts
from ropbench.report.study import STUDY_INTRO, protocol_note, study_tables

__all__ = [
    "SUMMARY_COLUMNS", "DEFAULT_RANKING", "READING_GUIDE", "summarise", "load_summary", "board_data",
    "leaderboard_markdown", "markdown_table", "format_mean_std", "run_leaderboard_markdown", "preamble",
]

# Which metric ranks each kind's explanations (the first present). Localization leads with
# the prior-controlled metrics; relevance-mass ranks a suite that has none of them.
DEFAULT_RANKING = ("accuracy", "vessel-auroc", "segment-auroc", "relevance-mass", "percentile-precision@90",
                   "deletion-auc")

GROUP = ["generator", "architecture", "explainer", "metric", "kind", "higher_is_better"]
SUMMARY_COLUMNS = GROUP + ["mean", "std", "n_seeds", "chance", "n_images"]

READING_GUIDE = (
    "↑ higher is better, ↓ lower is better; chance = the expected score of a uniformly random map (or "
    "classifier). Rows marked (control) are references: listed after the explanations, never ranked among "
    f"them. \"{VERDICT_HEADER}\": yes when, in every seed, the bootstrap 95% CI lower bound of prior-skill "
    "is above 0 or that of vessel-auroc above 0.5; n/a without a CI of either."
)


def summarise(table: pd.DataFrame, controls: Controls | None = None) -> pd.DataFrame:
    """Mean and sample std (ddof=1; empty for one seed) of each metric over seeds.

    With ``controls``, a last column ``control`` (bool) marks control explainers and
    control classifiers, so a CSV reader can tell references from entries.
    """
    if table.empty:
        return pd.DataFrame(columns=SUMMARY_COLUMNS + (["control"] if controls is not None else []))
    grouped = table.groupby(GROUP, sort=False, dropna=False)
    summary = grouped.agg(
        mean=("value", "mean"), std=("value", "std"), n_seeds=("value", "count"),
        chance=("chance", "mean"), n_images=("n_images", "sum"),
    ).reset_index()
    order = sorted(range(len(summary)), key=lambda i: tuple(
        tuple(natural_key(str(summary.iloc[i][c]))) for c in GROUP[:4]))
    summary = summary.iloc[order].reset_index(drop=True)[SUMMARY_COLUMNS]
    if controls is not None:
        summary["control"] = [controls.is_control_explainer(str(e)) or controls.is_control_architecture(str(a))
                              for a, e in zip(summary["architecture"], summary["explainer"])]
    return summary


def load_summary(path: Path) -> pd.DataFrame:
    """A leaderboard summary from a run directory (its results.csv) or a leaderboard CSV."""
    from ropbench.errors import RopbenchError
    from ropbench.rundir import RunDir

    path = Path(path)
    if path.is_dir():
        return RunDir.open(path).summary
    if path.is_file():
        try:
            summary = pd.read_csv(path)
        except ValueError as error:
            raise RopbenchError(f"{path} unreadable: {error}") from None
        missing = set(GROUP[:4] + ["mean", "higher_is_better"]) - set(summary)
        if missing:
            raise RopbenchError(f"{path} is neither a run directory nor a leaderboard CSV: missing {sorted(missing)}")
        summary["explainer"] = summary["explainer"].astype(str)
        if "std" not in summary:
            summary["std"] = float("nan")
        return summary
    raise RopbenchError(f"{path} not found")


def board_data(table: pd.DataFrame, manifest: Mapping[str, Any]) -> BoardData:
    """Everything a run's boards need: the summary, the per-seed verdicts, the controls."""
    return BoardData(summarise(table), prior_verdicts(table), Controls.from_manifest(manifest), manifest)


def markdown_table(table: BoardTable) -> str:
    """A board table as a GitHub markdown table: labels left, scores right."""
    rows = [list(row.labels) + list(row.cells) for row in table.rows]
    align = ["left"] * table.labels + ["left" if h == VERDICT_HEADER else "right"
                                       for h in table.headers[table.labels:]]
    # No number parsing (tabulate would print a one-seed 0.040 as 0.04).
    return tabulate(rows, headers=list(table.headers), tablefmt="github", disable_numparse=True, colalign=align)


def _tables_markdown(tables: list[BoardTable]) -> list[str]:
    lines: list[str] = []
    for table in tables:
        lines += [f"### {table.title}", ""]
        for note in table.notes:
            lines += [note, ""]
        lines += [markdown_table(table), ""]
    return lines


def _study_markdown(data: BoardData) -> list[str]:
    tables = study_tables(data)
    if not tables:
        return []
    lines = ["## Original study format", "", STUDY_INTRO, "", protocol_note(data.manifest, tables), ""]
    for table in tables:
        lines += [f"### {table.title}", "",
                  tabulate([list(r) for r in table.rows], headers=list(table.headers), tablefmt="github",
                           disable_numparse=True, colalign=["right"] * len(table.headers)), ""]
    return lines


def leaderboard_markdown(data: BoardData | pd.DataFrame, *, title: str, rank_by: Iterable[str] = (),
                         preamble: str = "") -> str:
    """The boards of a run as markdown: per generator the classification, localization
    (headline, whole-image, ...), faithfulness and sanity tables; then the percentile
    threshold tables and the "Original study format" section. ``data`` may be a bare
    summary (no verdicts; controls recognised by their plugin names)."""
    if isinstance(data, pd.DataFrame):
        data = BoardData(data)
    rank_by = list(rank_by)
    lines = [f"# {title}", ""]
    if preamble:
        lines += [preamble, ""]
    lines += [READING_GUIDE, ""]
    for generator in data.generators:
        lines += [f"## {generator}", "", *_tables_markdown(generator_board(data, generator, rank_by))]
    thresholds = [t for g in data.generators for t in threshold_tables(data, g, rank_by)]
    if thresholds:
        lines += ["## Percentile thresholds", "",
                  "All-pixel (`percentile-*`) and the study's vessel-weighted (`study-*`) scores at the map's "
                  "p-th percentile, one column per p.", "", *_tables_markdown(thresholds)]
    lines += _study_markdown(data)
    return "\n".join(lines).rstrip() + "\n"


def _regenerate_command(manifest: Mapping[str, Any]) -> str:
    """The command that reproduces a run: a shipped suite by name, else its file."""
    from ropbench.suite import shipped_suites

    name = manifest.get("suite", {}).get("name", "?")
    suite_file = manifest.get("suite_file", {}).get("file", "")
    shipped = shipped_suites().get(name)
    if shipped is not None and suite_file and Path(suite_file).resolve() == shipped.resolve():
        return f"ropbench run --suite {name}"
    return f"ropbench run --suite {suite_file or name}"


def preamble(manifest: Mapping[str, Any]) -> str:
    """What a run's leaderboard is: suite, seeds, size, version, how to regenerate it, and
    whether the run was interrupted (then the numbers are partial)."""
    suite = manifest.get("suite", {})
    seeds = ", ".join(str(s) for s in manifest.get("seeds", []))
    text = (
        f"Suite `{suite.get('name', '?')}` ({suite.get('description', '')}); "
        f"seeds {seeds}; image size {suite.get('image_size', '?')} px; "
        f"ropbench {manifest.get('ropbench_version', '?')}. "
        "Cells show mean ± std over seeds (std omitted for one seed). "
        f"Regenerate with `{_regenerate_command(manifest)}`."
    )
    for label, reason in (manifest.get("unavailable_architectures") or {}).items():
        text += f" Not run: `{label}`: {reason}."
    if manifest.get("interrupted"):
        text = ("**PARTIAL: this run was interrupted; cells missing seeds or tasks show what finished.** "
                + text)
    return text


def run_leaderboard_markdown(table: pd.DataFrame, manifest: Mapping[str, Any],
                             rank_by: Iterable[str] = DEFAULT_RANKING) -> str:
    """The leaderboard of a run, as its ``leaderboard.md`` and ``ropbench leaderboard`` print it."""
    title = f"ropbench leaderboard: {manifest.get('suite', {}).get('name', 'run')}"
    return leaderboard_markdown(board_data(table, manifest), title=title, rank_by=rank_by,
                                preamble=preamble(manifest))
