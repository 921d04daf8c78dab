"""Leaderboards: results summarised over seeds (mean ± std), ranked, as markdown or CSV."""

from __future__ import annotations

import math
from typing import Iterable

import pandas as pd
from tabulate import tabulate

from ropbench.registry import natural_key

__all__ = ["SUMMARY_COLUMNS", "summarise", "leaderboard_markdown", "format_mean_std"]

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


def format_mean_std(mean: float, std: float, digits: int = 3) -> str:
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "n/a"
    if std is None or (isinstance(std, float) and math.isnan(std)):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def _kind_table(summary: pd.DataFrame, kind: str, rank_by: str | None) -> str:
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
    return tabulate([e[0] for e in entries], headers=headers, tablefmt="github")


def leaderboard_markdown(summary: pd.DataFrame, *, title: str, rank_by: Iterable[str] = (),
                         preamble: str = "") -> str:
    """One section per generator and metric kind; ``rank_by`` names the ranking metric of
    each kind (the first that is present), otherwise rows keep plan order."""
    rank_by = list(rank_by)
    lines = [f"# {title}", ""]
    if preamble:
        lines += [preamble, ""]
    for generator in sorted(summary["generator"].unique(), key=natural_key):
        lines += [f"## {generator}", ""]
        of_generator = summary[summary["generator"] == generator]
        for kind, heading in KIND_TITLES.items():
            if (of_generator["kind"] == kind).any():
                present = set(of_generator[of_generator["kind"] == kind]["metric"])
                ranking = next((m for m in rank_by if m in present), None)
                note = f" — ranked by {ranking}" if ranking else ""
                lines += [f"### {heading}{note}", "", _kind_table(of_generator, kind, ranking), ""]
    return "\n".join(lines).rstrip() + "\n"
