"""Leaderboards: results summarised over seeds (mean ± std), ranked, as markdown or CSV."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Iterable

import pandas as pd
from tabulate import tabulate

from ropbench.registry import natural_key

__all__ = [
    "SUMMARY_COLUMNS", "summarise", "load_summary", "leaderboard_markdown", "format_mean_std", "kind_table",
    "ranking_metric", "study_percentiles", "study_table", "original_study_markdown",
]

GROUP = ["generator", "architecture", "explainer", "metric", "kind", "higher_is_better"]
SUMMARY_COLUMNS = GROUP + ["mean", "std", "n_seeds", "chance", "n_images"]
KIND_TITLES = {
    "classification": "Classification (test set)",
    "localization": "Localization (ROP test images; chance = a uniformly random heatmap)",
    "faithfulness": "Faithfulness",
    "sanity": "Sanity checks",
}


def summarise(table: pd.DataFrame) -> pd.DataFrame:
    """Mean and sample std (ddof=1; empty for one seed) of each metric over seeds."""
    if table.empty:
        return pd.DataFrame(columns=SUMMARY_COLUMNS)
    grouped = table.groupby(GROUP, sort=False, dropna=False)
    summary = grouped.agg(
        mean=("value", "mean"), std=("value", "std"), n_seeds=("seed", "nunique"),
        chance=("chance", "mean"), n_images=("n_images", "sum"),
    ).reset_index()
    order = sorted(range(len(summary)), key=lambda i: tuple(
        tuple(natural_key(str(summary.iloc[i][c]))) for c in GROUP[:4]))
    return summary.iloc[order].reset_index(drop=True)[SUMMARY_COLUMNS]


def load_summary(path: Path) -> pd.DataFrame:
    """A leaderboard summary from a run directory (its results.csv) or a leaderboard CSV."""
    from ropbench.errors import RopbenchError
    from ropbench.results import read_table  # here: results pulls in the planner and torch

    path = Path(path)
    if path.is_dir():
        results = path / "results.csv"
        if not results.is_file():
            raise RopbenchError(f"{path} is not a run directory: {results} not found")
        return summarise(read_table(results))
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


def format_mean_std(mean: float, std: float, digits: int = 3) -> str:
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "n/a"
    if std is None or (isinstance(std, float) and math.isnan(std)):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def kind_table(summary: pd.DataFrame, kind: str, rank_by: str | None) -> tuple[list[str], list[list[str]]]:
    """(headers, rows) of one generator's table of ``kind``, best first by ``rank_by``.

    Headers carry the direction arrow and the chance level; cells are mean ± std.
    """
    rows_of_kind = summary[summary["kind"] == kind]
    metrics = sorted(rows_of_kind["metric"].unique(), key=natural_key)
    index = ["architecture"] if kind == "classification" else ["architecture", "explainer"]
    headers = list(index)
    for metric in metrics:
        chance = rows_of_kind[rows_of_kind["metric"] == metric]["chance"].mean()
        arrow = "↑" if bool(rows_of_kind[rows_of_kind["metric"] == metric]["higher_is_better"].iloc[0]) else "↓"
        headers.append(f"{metric} {arrow}" + ("" if math.isnan(chance) else f" (chance {chance:.3f})"))
    entries = []
    for keys, group in rows_of_kind.groupby(index, sort=False):
        keys = keys if isinstance(keys, tuple) else (keys,)
        by_metric = {r.metric: r for r in group.itertuples()}
        cells = [format_mean_std(by_metric[m].mean, by_metric[m].std) if m in by_metric else "" for m in metrics]
        sort_value = by_metric[rank_by].mean if rank_by in by_metric else float("nan")
        direction = by_metric[rank_by].higher_is_better if rank_by in by_metric else True
        entries.append((list(keys) + cells, sort_value, direction))
    if rank_by is not None and rank_by in metrics:
        # Direction-aware: best first; rows without the metric last.
        entries.sort(key=lambda e: (math.isnan(e[1]), -e[1] if e[2] else e[1]))
    return headers, [e[0] for e in entries]


def ranking_metric(summary: pd.DataFrame, kind: str, rank_by: Iterable[str]) -> str | None:
    """The first metric of ``rank_by`` that ``summary`` has for ``kind``."""
    present = set(summary[summary["kind"] == kind]["metric"])
    return next((m for m in rank_by if m in present), None)


# The original study's table: percentile-threshold precision / recall in percent.
STUDY_PRECISION = "percentile-precision@"
STUDY_RECALL = "percentile-recall@"


def study_percentiles(summary: pd.DataFrame) -> list[str]:
    """The percentiles p with a ``percentile-precision@p`` or ``percentile-recall@p`` row."""
    names = summary["metric"].astype(str)
    found = {n.split("@", 1)[1] for n in names if n.startswith((STUDY_PRECISION, STUDY_RECALL))}
    return sorted(found, key=natural_key)


def _percent(row: pd.Series | None) -> str:
    if row is None:
        return "n/a"
    return format_mean_std(100 * row["mean"], 100 * row["std"], digits=2)


def study_table(summary: pd.DataFrame, generator: str, architecture: str, explainer: str) -> list[list[str]]:
    """Rows ``[p, "precision / recall"]`` (percent, mean ± std over seeds) of one
    (generator, architecture, explainer), as in the original study's table."""
    chosen = summary[(summary["generator"] == generator) & (summary["architecture"] == architecture)
                     & (summary["explainer"] == explainer)]
    by_metric = {str(r["metric"]): r for _, r in chosen.iterrows()}
    return [[p, f"{_percent(by_metric.get(STUDY_PRECISION + p))} / {_percent(by_metric.get(STUDY_RECALL + p))}"]
            for p in study_percentiles(chosen)]


def original_study_markdown(summary: pd.DataFrame) -> str:
    """The "Original study format" section: one table per (generator, architecture,
    explainer) that has percentile precision / recall metrics; empty when none has."""
    triples = summary[summary["metric"].astype(str).str.startswith((STUDY_PRECISION, STUDY_RECALL))]
    triples = triples[["generator", "architecture", "explainer"]].drop_duplicates()
    if triples.empty:
        return ""
    lines = ["## Original study format", "",
             "Heatmap thresholded at its p-th percentile; precision = share of the top pixels inside "
             "the ground truth, recall = share of the ground truth they cover (percent, mean ± std "
             "over seeds).", ""]
    for generator, architecture, explainer in sorted(
            triples.itertuples(index=False), key=lambda t: tuple(tuple(natural_key(str(v))) for v in t)):
        rows = study_table(summary, generator, architecture, explainer)
        lines += [f"### {generator} / {architecture} / {explainer}", "",
                  tabulate(rows, headers=["p", "precision / recall (%)"], tablefmt="github",
                           disable_numparse=True, colalign=["right", "right"]), ""]
    return "\n".join(lines)


def _kind_table(summary: pd.DataFrame, kind: str, rank_by: str | None) -> str:
    headers, rows = kind_table(summary, kind, rank_by)
    labels = 1 if kind == "classification" else 2
    # No number parsing (tabulate would print a one-seed 0.040 as 0.04); scores right-aligned.
    return tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True,
                    colalign=["left"] * labels + ["right"] * (len(headers) - labels))


def leaderboard_markdown(summary: pd.DataFrame, *, title: str, rank_by: Iterable[str] = (),
                         preamble: str = "") -> str:
    """One section per generator and metric kind; ``rank_by`` names the ranking metric of
    each kind (the first that is present), otherwise rows keep plan order. When
    percentile precision / recall metrics are present, an "Original study format"
    section follows with one table per (generator, architecture, explainer)."""
    rank_by = list(rank_by)
    lines = [f"# {title}", ""]
    if preamble:
        lines += [preamble, ""]
    for generator in sorted(summary["generator"].unique(), key=natural_key):
        lines += [f"## {generator}", ""]
        of_generator = summary[summary["generator"] == generator]
        for kind, heading in KIND_TITLES.items():
            if (of_generator["kind"] == kind).any():
                ranking = ranking_metric(of_generator, kind, rank_by)
                note = f" — ranked by {ranking}" if ranking else ""
                lines += [f"### {heading}{note}", "", _kind_table(of_generator, kind, ranking), ""]
    study = original_study_markdown(summary)
    if study:
        lines += [study, ""]
    return "\n".join(lines).rstrip() + "\n"
