"""Regression gates: did any metric move past its tolerance in the bad direction?

A baseline is a leaderboard CSV (``leaderboard.csv`` of an earlier run, e.g. the
committed ``leaderboards/smoke.csv``). Tolerances are absolute plus relative to the
baseline value; suites override the defaults with a ``[tolerances]`` table whose keys
are metric globs, e.g. ``"percentile-*" = { absolute = 0.05 }`` (``default`` applies to
all).
"""

from __future__ import annotations

import fnmatch
import math
from dataclasses import dataclass
from typing import Any, Mapping

import pandas as pd

__all__ = ["Tolerance", "Movement", "compare_to_baseline", "DEFAULT_TOLERANCE", "tolerance_for"]

KEY = ["generator", "architecture", "explainer", "metric"]


@dataclass(frozen=True)
class Tolerance:
    absolute: float = 0.02
    relative: float = 0.0

    def allowed(self, baseline: float) -> float:
        return self.absolute + self.relative * abs(baseline)


DEFAULT_TOLERANCE = Tolerance()


def tolerance_for(metric: str, overrides: Mapping[str, Any], fallback: Tolerance = DEFAULT_TOLERANCE) -> Tolerance:
    """The most specific matching override: exact name, then the longest glob, then default."""
    default = overrides.get("default", {})
    chosen: Mapping[str, Any] = {}
    if metric in overrides:
        chosen = overrides[metric]
    else:
        globs = sorted((p for p in overrides if p != "default" and fnmatch.fnmatchcase(metric, p)), key=len)
        if globs:
            chosen = overrides[globs[-1]]
    merged = {"absolute": fallback.absolute, "relative": fallback.relative, **default, **chosen}
    return Tolerance(float(merged["absolute"]), float(merged["relative"]))


@dataclass(frozen=True)
class Movement:
    generator: str
    architecture: str
    explainer: str
    metric: str
    baseline: float
    current: float
    allowed: float
    higher_is_better: bool
    status: str  # "regressed", "missing", "improved", "new", "ok"

    @property
    def delta(self) -> float:
        return self.current - self.baseline

    def describe(self) -> str:
        where = f"{self.generator}/{self.architecture}/{self.explainer} {self.metric}"
        if self.status == "missing":
            return f"{where}: in the baseline ({self.baseline:.4f}) but missing from this run"
        if self.status == "new":
            return f"{where}: new ({self.current:.4f}), not in the baseline"
        better = "higher" if self.higher_is_better else "lower"
        return (f"{where}: {self.baseline:.4f} -> {self.current:.4f} ({self.delta:+.4f}; "
                f"allowed {self.allowed:.4f}; {better} is better)")


def compare_to_baseline(current: pd.DataFrame, baseline: pd.DataFrame,
                        overrides: Mapping[str, Any] | None = None) -> list[Movement]:
    """Every baseline row's movement. Both frames are leaderboard summaries."""
    overrides = overrides or {}
    now = {tuple(str(v) for v in row[KEY]): row for _, row in current.iterrows()}
    seen = set()
    movements = []
    for _, row in baseline.iterrows():
        key = tuple(str(v) for v in row[KEY])
        seen.add(key)
        higher = bool(row["higher_is_better"])
        base = float(row["mean"])
        allowed = tolerance_for(key[3], overrides).allowed(base)
        if key not in now or (math.isnan(float(now[key]["mean"])) and not math.isnan(base)):
            movements.append(Movement(*key, base, float("nan"), allowed, higher, "missing"))
            continue
        value = float(now[key]["mean"])
        delta = value - base
        worse = -delta if higher else delta
        if math.isnan(base) and math.isnan(value):
            status = "ok"
        elif worse > allowed + 1e-12:
            status = "regressed"
        elif -worse > allowed + 1e-12:
            status = "improved"
        else:
            status = "ok"
        movements.append(Movement(*key, base, value, allowed, higher, status))
    for key, row in now.items():
        if key not in seen:
            movements.append(Movement(*key, float("nan"), float(row["mean"]), 0.0,
                                      bool(row["higher_is_better"]), "new"))
    return movements
