"""Two runs side by side: mean per (generator, architecture, explainer, metric), the
change from A to B, and whether B is better or worse in the metric's own direction.

Unlike :mod:`ropbench.regression` there is no tolerance and no verdict on the run as a
whole: this is for people deciding what changed, not a CI gate.
"""

from __future__ import annotations

import fnmatch
import math
from typing import Sequence

import pandas as pd
from tabulate import tabulate

from ropbench.errors import RopbenchError
from ropbench.leaderboard import format_mean_std, load_summary
from ropbench.registry import natural_key
from ropbench.regression import KEY, parse_bool, parse_mean

__all__ = ["KEY", "COMPARISON_COLUMNS", "load_summary", "require_comparable", "compare_summaries",
           "comparison_markdown"]

COMPARISON_COLUMNS = KEY + ["higher_is_better", "mean_a", "std_a", "mean_b", "std_b", "delta", "change"]
SAME = 1e-9  # deltas this small are float noise from rounding in the CSV, not a change


def _change(higher_is_better: bool, delta: float) -> str:
    if math.isnan(delta):
        return ""
    if abs(delta) <= SAME:
        return "same"
    return "better" if (delta > 0) == bool(higher_is_better) else "worse"


def require_comparable(summary: pd.DataFrame, source: str) -> pd.DataFrame:
    """``summary`` with ``mean`` as floats and ``higher_is_better`` as bools, or an error
    naming ``source`` and the row (its CSV line) holding text where a number or a
    direction belongs. A blank mean stays NaN: comparing shows it as missing."""
    means, directions = [], []
    for position, (mean, higher) in enumerate(zip(summary["mean"], summary["higher_is_better"])):
        value, direction = parse_mean(mean), parse_bool(higher)
        where = f"{source} row {position + 2}"
        if value is None:
            raise RopbenchError(f"{where}: mean: expected a number, got {mean!r}")
        if direction is None:
            raise RopbenchError(f"{where}: higher_is_better: expected true or false, got {higher!r}")
        means.append(value)
        directions.append(direction)
    return summary.assign(mean=pd.Series(means, index=summary.index, dtype="float64"),
                          higher_is_better=pd.Series(directions, index=summary.index, dtype=bool))


def compare_summaries(a: pd.DataFrame, b: pd.DataFrame, metric_globs: Sequence[str] = ("*",)) -> pd.DataFrame:
    """One row per key in either summary whose metric matches a glob, in natural order.

    ``change`` is ``better``, ``worse`` or ``same`` (direction-aware), ``only in A`` or
    ``only in B``.
    """
    columns = KEY + ["higher_is_better", "mean", "std"]
    merged = a[columns].merge(b[columns], on=KEY, how="outer", suffixes=("_a", "_b"))
    merged = merged[merged["metric"].astype(str).map(
        lambda m: any(fnmatch.fnmatchcase(m, g) for g in metric_globs))]
    rows = []
    for record in merged.to_dict("records"):
        in_a, in_b = not pd.isna(record["higher_is_better_a"]), not pd.isna(record["higher_is_better_b"])
        higher = bool(record["higher_is_better_a"] if in_a else record["higher_is_better_b"])
        delta = float(record["mean_b"]) - float(record["mean_a"]) if in_a and in_b else float("nan")
        change = _change(higher, delta) if in_a and in_b else ("only in A" if in_a else "only in B")
        rows.append({**{k: record[k] for k in KEY}, "higher_is_better": higher,
                     "mean_a": record["mean_a"], "std_a": record["std_a"], "mean_b": record["mean_b"],
                     "std_b": record["std_b"], "delta": delta, "change": change})
    frame = pd.DataFrame(rows, columns=COMPARISON_COLUMNS)
    order = sorted(range(len(frame)), key=lambda i: tuple(tuple(natural_key(str(frame.iloc[i][c]))) for c in KEY))
    return frame.iloc[order].reset_index(drop=True)


def _value(mean: float, std: float) -> str:
    return "—" if pd.isna(mean) else format_mean_std(float(mean), float(std) if not pd.isna(std) else float("nan"))


def comparison_markdown(comparison: pd.DataFrame, label_a: str, label_b: str) -> str:
    """A markdown table of :func:`compare_summaries`, then a count of better / worse."""
    rows = [[r.generator, r.architecture, r.explainer, f"{r.metric} {'↑' if r.higher_is_better else '↓'}",
             _value(r.mean_a, r.std_a), _value(r.mean_b, r.std_b),
             "" if math.isnan(r.delta) else f"{r.delta:+.4f}", r.change]
            for r in comparison.itertuples()]
    headers = ["generator", "architecture", "explainer", "metric", f"A: {label_a}", f"B: {label_b}",
               "Δ (B − A)", "B vs A"]
    counts = comparison["change"].value_counts()
    tally = ", ".join(f"{counts.get(k, 0)} {k}" for k in ("better", "worse", "same", "only in A", "only in B"))
    table = tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)
    return f"{table}\n\n{len(comparison)} metrics: {tally}\n"
