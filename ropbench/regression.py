"""Regression gates: did any metric move past its tolerance in the bad direction?

A baseline is a leaderboard CSV (``leaderboard.csv`` of an earlier run, e.g. the
committed ``leaderboards/smoke.csv``). Tolerances are absolute plus relative to the
baseline value; suites override the defaults with a ``[tolerances]`` table whose keys
are metric globs, e.g. ``"percentile-*" = { absolute = 0.05 }`` (``default`` applies to
all), checked by :func:`validate_tolerances` when the suite is loaded.

A baseline row the gate cannot judge (a blank or NaN ``mean``, a ``higher_is_better``
that is not true/false, a direction that differs from the run's) is ``unchecked``: it is
reported and never counted as passed.
"""

from __future__ import annotations

import fnmatch
import math
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

import pandas as pd

from ropbench.errors import RopbenchError, did_you_mean

__all__ = [
    "KEY", "TOLERANCE_FIELDS", "Tolerance", "DEFAULT_TOLERANCE", "Movement", "ToleranceError",
    "BaselineError", "validate_tolerances", "tolerance_for", "parse_bool", "parse_mean",
    "compare_to_baseline",
]

KEY = ["generator", "architecture", "explainer", "metric"]
TOLERANCE_FIELDS = ("absolute", "relative")
FAILING = ("regressed", "missing")
# Float noise in a CSV round trip must not flip a verdict at exactly the tolerance.
SLACK = 1e-12


class ToleranceError(RopbenchError):
    """A tolerance table that cannot be used; the message names its source and key."""


class BaselineError(RopbenchError):
    """A baseline that cannot be checked against at all (no rows, say)."""


@dataclass(frozen=True)
class Tolerance:
    absolute: float = 0.02
    relative: float = 0.0

    def allowed(self, baseline: float) -> float:
        return self.absolute + self.relative * abs(baseline)


DEFAULT_TOLERANCE = Tolerance()


def _tolerance_value(source: str, key: str, field: str, value: Any) -> float:
    # bool is an int in Python; `absolute = true` is a typo, not a tolerance of 1.
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ToleranceError(f"{source}: tolerances.{key}.{field}: expected a finite number >= 0, got {value!r}")
    return float(value)


def validate_tolerances(
    raw: Mapping[str, Any], source: str, metric_names: Iterable[str] | None = None,
) -> dict[str, dict[str, float]]:
    """``raw`` (a suite's ``[tolerances]`` table) checked and normalised to floats.

    Each key is ``default`` or a metric name or glob, each value a table of ``absolute``
    and/or ``relative`` (finite, >= 0). A misspelt field or a pattern that matches none of
    ``metric_names`` is an error with a did-you-mean, because an ignored tolerance silently
    changes the gate's verdict. ``metric_names=None`` skips the pattern check.
    """
    if not isinstance(raw, Mapping):
        raise ToleranceError(f"{source}: tolerances: expected a table of metric globs, got {raw!r}")
    names = sorted(set(metric_names)) if metric_names is not None else None
    checked: dict[str, dict[str, float]] = {}
    for key, fields in raw.items():
        if not isinstance(fields, Mapping) or not fields:
            raise ToleranceError(f"{source}: tolerances.{key}: expected a table with absolute and/or "
                                 f"relative, e.g. {{ absolute = 0.02 }}, got {fields!r}")
        for field in fields:
            if field not in TOLERANCE_FIELDS:
                raise ToleranceError(f"{source}: tolerances.{key}.{field}: expected one of "
                                     f"{', '.join(TOLERANCE_FIELDS)} ({did_you_mean(str(field), TOLERANCE_FIELDS)})")
        if key != "default" and names is not None and not any(fnmatch.fnmatchcase(n, key) for n in names):
            raise ToleranceError(f"{source}: tolerances.{key}: expected 'default' or a metric name or glob that "
                                 f"matches a metric (unknown metric {key!r}; {did_you_mean(key, ['default', *names])})")
        checked[key] = {field: _tolerance_value(source, key, field, value) for field, value in fields.items()}
    return checked


def tolerance_for(metric: str, overrides: Mapping[str, Any], fallback: Tolerance = DEFAULT_TOLERANCE) -> Tolerance:
    """The most specific matching override: the exact name, else the longest matching glob
    (of equal lengths, the later in the table), else ``default``. Fields it leaves out come
    from ``default``, then from ``fallback``."""
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


def parse_bool(value: Any) -> bool | None:
    """True/False from a CSV cell (bool, 1/0, "true"/"false" in any case); None otherwise."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    return {"true": True, "false": False, "1": True, "0": False}.get(text)


def parse_mean(value: Any) -> float | None:
    """A float from a CSV cell (NaN for a blank or NaN cell); None when it is not a number."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return math.nan
    if isinstance(value, bool):
        return None
    try:
        return float(str(value).strip() or "nan")
    except ValueError:
        return None


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
    status: str  # "regressed", "missing", "unchecked", "improved", "new", "ok"
    problem: str = ""  # why an "unchecked" row could not be judged

    @property
    def delta(self) -> float:
        return self.current - self.baseline

    def describe(self) -> str:
        where = f"{self.generator}/{self.architecture}/{self.explainer} {self.metric}"
        if self.status == "unchecked":
            return f"{where}: could not check: {self.problem}"
        if self.status == "missing":
            return f"{where}: in the baseline ({self.baseline:.4f}) but missing from this run"
        if self.status == "new":
            return f"{where}: new ({self.current:.4f}), not in the baseline"
        better = "higher" if self.higher_is_better else "lower"
        return (f"{where}: {self.baseline:.4f} -> {self.current:.4f} ({self.delta:+.4f}; "
                f"allowed {self.allowed:.4f}; {better} is better)")


def _cell(value: Any) -> str:
    return "a blank cell" if pd.isna(value) else repr(value)


def _baseline_problem(row: Mapping[str, Any], base: float | None, higher: bool | None,
                      current: Mapping[str, Any] | None, where: str) -> str:
    if base is None:
        return f"{where}: mean: expected a number, got {row['mean']!r}"
    if math.isnan(base) or math.isinf(base):
        return f"{where}: mean: expected a finite number, got {_cell(row['mean'])}"
    if higher is None:
        return f"{where}: higher_is_better: expected true or false, got {_cell(row['higher_is_better'])}"
    if current is not None and parse_bool(current["higher_is_better"]) not in (None, higher):
        return f"{where}: higher_is_better is {higher} in the baseline but {not higher} in this run"
    return ""


def compare_to_baseline(current: pd.DataFrame, baseline: pd.DataFrame,
                        overrides: Mapping[str, Any] | None = None, source: str = "baseline") -> list[Movement]:
    """Every baseline row's movement, then the run's rows the baseline lacks (``new``).

    Both frames are leaderboard summaries. ``source`` names the baseline in messages,
    whose rows are numbered as lines of its CSV (the header is line 1). A baseline with no
    rows raises :class:`BaselineError`: an empty baseline would pass any run.
    """
    if baseline.empty:
        raise BaselineError(f"{source}: baseline has no metrics (a header without rows would pass any run)")
    overrides = overrides or {}
    now = {tuple(str(v) for v in row[KEY]): row for _, row in current.iterrows()}
    first_line: dict[tuple[str, ...], int] = {}
    movements = []
    for position, (_, row) in enumerate(baseline.iterrows()):
        key = tuple(str(v) for v in row[KEY])
        where = f"{source} row {position + 2}"
        base, higher = parse_mean(row["mean"]), parse_bool(row["higher_is_better"])
        problem = _baseline_problem(row, base, higher, now.get(key), where)
        if key in first_line:
            problem = f"{where}: the same metric as row {first_line[key]}"
        first_line.setdefault(key, position + 2)
        value = parse_mean(now[key]["mean"]) if key in now else math.nan
        if problem:
            movements.append(Movement(*key, math.nan if base is None else base, math.nan if value is None else value,
                                      math.nan, bool(higher), "unchecked", problem))
            continue
        allowed = tolerance_for(key[3], overrides).allowed(base)
        if value is None or math.isnan(value):
            movements.append(Movement(*key, base, math.nan, allowed, higher, "missing"))
            continue
        worse = (base - value) if higher else (value - base)
        status = "regressed" if worse > allowed + SLACK else "improved" if -worse > allowed + SLACK else "ok"
        movements.append(Movement(*key, base, value, allowed, higher, status))
    for key, row in now.items():
        if key not in first_line:
            value = parse_mean(row["mean"])
            movements.append(Movement(*key, math.nan, math.nan if value is None else value, 0.0,
                                      bool(parse_bool(row["higher_is_better"])), "new"))
    return movements
