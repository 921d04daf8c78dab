"""ropbench.regression: tolerance precedence, the verdict of each baseline row, and the
checks on tolerance tables. Every expected value is worked out by hand in a comment."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from ropbench.regression import (
    BaselineError, Tolerance, ToleranceError, compare_to_baseline, parse_bool, parse_mean, tolerance_for,
    validate_tolerances,
)

METRICS = ["accuracy", "auroc", "deletion-auc", "percentile-precision@50", "percentile-precision@90",
           "percentile-recall@50"]


def _summary(*rows: tuple) -> pd.DataFrame:
    """Leaderboard rows (metric, higher_is_better, mean) of one cell."""
    return pd.DataFrame([{"generator": "g", "architecture": "a", "explainer": "-", "metric": metric,
                          "higher_is_better": higher, "mean": mean} for metric, higher, mean in rows])


def _by_metric(movements) -> dict:
    return {m.metric: m for m in movements}


# --- tolerance_for -----------------------------------------------------------------


def test_without_overrides_the_fallback_applies() -> None:
    assert tolerance_for("accuracy", {}) == Tolerance(0.02, 0.0)
    assert tolerance_for("accuracy", {}, Tolerance(0.1, 0.2)) == Tolerance(0.1, 0.2)


def test_exact_name_beats_any_glob_even_a_longer_one() -> None:
    overrides = {"a*r*o*c*": {"absolute": 0.5}, "auroc": {"absolute": 0.1}, "default": {"absolute": 0.9}}
    assert tolerance_for("auroc", overrides).absolute == 0.1


def test_the_longest_matching_glob_wins_over_shorter_ones_and_default() -> None:
    overrides = {"default": {"absolute": 0.9}, "percentile-*": {"absolute": 0.3},
                 "percentile-precision@*": {"absolute": 0.2}, "*": {"absolute": 0.7}}
    assert tolerance_for("percentile-precision@50", overrides).absolute == 0.2
    assert tolerance_for("percentile-recall@50", overrides).absolute == 0.3  # only "percentile-*", "*" match
    assert tolerance_for("accuracy", overrides).absolute == 0.7  # "*" matches, and beats default


def test_of_two_equally_long_globs_the_later_in_the_table_wins() -> None:
    first, second = "percentile-precision@5?", "percentile-precision@*0"  # both 23 characters
    metric = "percentile-precision@50"
    assert tolerance_for(metric, {first: {"absolute": 0.1}, second: {"absolute": 0.2}}).absolute == 0.2
    assert tolerance_for(metric, {second: {"absolute": 0.2}, first: {"absolute": 0.1}}).absolute == 0.1


def test_fields_a_pattern_leaves_out_come_from_default_then_the_fallback() -> None:
    overrides = {"default": {"relative": 0.1}, "acc*": {"absolute": 0.5}}
    assert tolerance_for("accuracy", overrides) == Tolerance(absolute=0.5, relative=0.1)
    assert tolerance_for("auroc", overrides) == Tolerance(absolute=0.02, relative=0.1)


def test_allowed_movement_is_absolute_plus_relative_times_the_baselines_size() -> None:
    assert Tolerance(0.01, 0.1).allowed(-0.5) == pytest.approx(0.01 + 0.1 * 0.5)


# --- compare_to_baseline -----------------------------------------------------------


def test_direction_decides_regressed_improved_and_ok() -> None:
    baseline = _summary(("accuracy", True, 0.75), ("auroc", True, 0.75), ("deletion-auc", False, 0.25),
                        ("percentile-precision@50", True, 0.5), ("percentile-recall@50", False, 0.5))
    current = _summary(("accuracy", True, 0.5), ("auroc", True, 1.0), ("deletion-auc", False, 0.5),
                       ("percentile-precision@50", True, 0.49), ("percentile-recall@50", False, 0.25))
    moved = _by_metric(compare_to_baseline(current, baseline))
    # Default tolerance 0.02: accuracy fell 0.25 (worse); auroc rose 0.25 (better);
    # deletion-auc (lower is better) rose 0.25 (worse); precision fell 0.01 (within);
    # recall (lower is better) fell 0.25 (better).
    assert {k: m.status for k, m in moved.items()} == {
        "accuracy": "regressed", "auroc": "improved", "deletion-auc": "regressed",
        "percentile-precision@50": "ok", "percentile-recall@50": "improved"}
    assert moved["accuracy"].delta == -0.25 and moved["accuracy"].allowed == 0.02


def test_a_move_of_exactly_the_tolerance_is_allowed() -> None:
    baseline = _summary(("accuracy", True, 0.5), ("auroc", True, 0.5))
    current = _summary(("accuracy", True, 0.25), ("auroc", True, 0.125))
    moved = _by_metric(compare_to_baseline(current, baseline, {"default": {"absolute": 0.25}}))
    # 0.5 -> 0.25 is exactly 0.25 worse (binary-exact): ok; 0.5 -> 0.125 is 0.375: regressed.
    assert moved["accuracy"].status == "ok" and moved["auroc"].status == "regressed"


def test_missing_and_new_rows() -> None:
    baseline = _summary(("accuracy", True, 0.5), ("auroc", True, 0.5))
    current = _summary(("accuracy", True, float("nan")), ("f1", True, 0.5))
    moved = _by_metric(compare_to_baseline(current, baseline))
    # accuracy is NaN in the run and auroc absent: both missing; f1 is not in the baseline.
    assert {k: m.status for k, m in moved.items()} == {"accuracy": "missing", "auroc": "missing", "f1": "new"}


@pytest.mark.parametrize(("mean", "problem"), [
    (float("nan"), "mean: expected a finite number, got a blank cell"),
    (None, "mean: expected a finite number, got a blank cell"),
    ("high", "mean: expected a number, got 'high'"),
    (float("inf"), "mean: expected a finite number, got inf"),
])
def test_a_baseline_mean_that_is_not_a_number_is_unchecked_never_ok(mean, problem: str) -> None:
    baseline = _summary(("accuracy", True, 0.5), ("auroc", True, mean))
    # The run's auroc is NaN too: two NaNs used to count as "ok".
    current = _summary(("accuracy", True, 0.5), ("auroc", True, float("nan")))
    moved = _by_metric(compare_to_baseline(current, baseline, source="bl.csv"))
    assert moved["accuracy"].status == "ok"
    assert moved["auroc"].status == "unchecked"
    assert moved["auroc"].problem == f"bl.csv row 3: {problem}"  # header row 1, accuracy row 2


@pytest.mark.parametrize("cell", [float("nan"), "maybe", 2])
def test_a_baseline_direction_that_is_not_true_or_false_is_unchecked(cell) -> None:
    baseline = _summary(("accuracy", cell, 0.5))
    moved = compare_to_baseline(_summary(("accuracy", True, 0.1)), baseline, source="bl.csv")
    assert [m.status for m in moved] == ["unchecked"]
    assert moved[0].problem.startswith("bl.csv row 2: higher_is_better: expected true or false, got ")


def test_a_direction_that_differs_from_the_runs_is_unchecked() -> None:
    moved = compare_to_baseline(_summary(("accuracy", False, 0.5)), _summary(("accuracy", True, 0.5)), source="b")
    assert moved[0].status == "unchecked"
    assert moved[0].problem == "b row 2: higher_is_better is True in the baseline but False in this run"


def test_a_metric_twice_in_the_baseline_is_unchecked_the_second_time() -> None:
    baseline = _summary(("accuracy", True, 0.5), ("accuracy", True, 0.1))
    moved = compare_to_baseline(_summary(("accuracy", True, 0.5)), baseline, source="b")
    assert [m.status for m in moved] == ["ok", "unchecked"]
    assert moved[1].problem == "b row 3: the same metric as row 2"


def test_a_baseline_without_rows_cannot_pass() -> None:
    with pytest.raises(BaselineError, match="b: baseline has no metrics"):
        compare_to_baseline(_summary(("accuracy", True, 0.5)), _summary(("accuracy", True, 0.5)).iloc[:0], source="b")


@given(base=st.floats(-10, 10), move=st.floats(-10, 10), absolute=st.floats(0, 5), relative=st.floats(0, 5),
       higher=st.booleans())
def test_a_row_regresses_exactly_when_it_moved_the_bad_way_past_the_tolerance(
        base: float, move: float, absolute: float, relative: float, higher: bool) -> None:
    current = base + move
    allowed = absolute + relative * abs(base)
    worse = -(current - base) if higher else current - base
    assume(abs(abs(worse) - allowed) > 1e-9)  # at the boundary float rounding decides; tested exactly above
    moved = compare_to_baseline(_summary(("accuracy", higher, current)), _summary(("accuracy", higher, base)),
                                {"default": {"absolute": absolute, "relative": relative}})[0]
    expected = "regressed" if worse > allowed else "improved" if -worse > allowed else "ok"
    assert moved.status == expected


@pytest.mark.parametrize(("cell", "expected"), [
    (True, True), (False, False), ("True", True), ("false", False), (" TRUE ", True), ("1", True), (0, False),
    (1.0, True), (float("nan"), None), ("", None), ("yes", None), (2, None)])
def test_parse_bool(cell, expected) -> None:
    assert parse_bool(cell) is expected


def test_parse_mean() -> None:
    assert parse_mean("0.25") == 0.25 and parse_mean(" 1e-3 ") == 0.001 and parse_mean(0.5) == 0.5
    assert math.isnan(parse_mean("")) and math.isnan(parse_mean(float("nan"))) and math.isnan(parse_mean(None))
    assert parse_mean("high") is None and parse_mean(True) is None


# --- validate_tolerances -----------------------------------------------------------


def test_valid_tolerances_come_back_as_floats() -> None:
    raw = {"default": {"absolute": 0, "relative": 0.1}, "percentile-*": {"absolute": 1}, "accuracy": {"relative": 2}}
    assert validate_tolerances(raw, "s.toml", METRICS) == {
        "default": {"absolute": 0.0, "relative": 0.1}, "percentile-*": {"absolute": 1.0},
        "accuracy": {"relative": 2.0}}


def test_a_misspelt_field_is_an_error_with_a_suggestion() -> None:
    with pytest.raises(ToleranceError, match=r"s\.toml: tolerances\.default\.absolut: expected one of absolute, "
                                             r"relative \(did you mean 'absolute'\?"):
        validate_tolerances({"default": {"absolut": 0.5}}, "s.toml", METRICS)


def test_a_misspelt_metric_is_an_error_with_a_suggestion() -> None:
    with pytest.raises(ToleranceError, match=r"s\.toml: tolerances\.acuracy: .*unknown metric 'acuracy'; "
                                             r"did you mean 'accuracy'"):
        validate_tolerances({"acuracy": {"absolute": 0.001}}, "s.toml", METRICS)
    with pytest.raises(ToleranceError, match=r"tolerances\.zzz\*: .*matches a metric"):
        validate_tolerances({"zzz*": {"absolute": 0.001}}, "s.toml", METRICS)
    # Without metric names only fields and values are checked.
    assert validate_tolerances({"acuracy": {"absolute": 0.001}}, "s.toml") == {"acuracy": {"absolute": 0.001}}


@pytest.mark.parametrize("value", ["big", True, -0.1, float("nan"), float("inf"), None, [0.1]])
def test_a_tolerance_must_be_a_finite_number_at_least_0(value) -> None:
    with pytest.raises(ToleranceError, match=r"s\.toml: tolerances\.accuracy\.absolute: expected a finite number >= 0"):
        validate_tolerances({"accuracy": {"absolute": value}}, "s.toml", METRICS)


@pytest.mark.parametrize("value", [0.5, {}, "0.1"])
def test_a_pattern_must_map_to_a_table_of_fields(value) -> None:
    with pytest.raises(ToleranceError, match=r"tolerances\.accuracy: expected a table with absolute and/or relative"):
        validate_tolerances({"accuracy": value}, "s.toml", METRICS)
