"""Fault-trial cases (reviews/fault-trial-afebf7a.md) for the CI gate, by case ID.

``ropbench check`` exits 0 when nothing regressed, 1 when a metric regressed or is
missing, and 2 when it could not check (bad input), printing no traceback. A gate must
never pass because its input was broken.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from ropbench.cli.main import main
from ropbench.results import RESULT_COLUMNS, write_table
from ropbench.regression import ToleranceError, validate_tolerances

HEADER = "generator,architecture,explainer,metric,kind,higher_is_better,mean,std,n_seeds,chance,n_images"
# The trial's run: accuracy 0.500, auroc 0.600 and deletion-auc (lower is better) 0.300.
RUN = {"accuracy": (True, 0.5), "auroc": (True, 0.6), "deletion-auc": (False, 0.3)}


def _baseline_line(metric: str, higher: str, mean: str) -> str:
    kind = "faithfulness" if metric == "deletion-auc" else "classification"
    return f"rw-classic,seed-cnn,-,{metric},{kind},{higher},{mean},,1,0.5,8"


def _run_dir(root: Path, tolerances: dict | None = None) -> Path:
    run = root / "run"
    run.mkdir(parents=True)
    rows = [{"suite": "t", "generator": "rw-classic", "architecture": "seed-cnn", "explainer": "-", "seed": 0,
             "metric": metric, "kind": "classification", "higher_is_better": higher, "value": value,
             "chance": 0.5, "chance_normalised": float("nan"), "ci_low": float("nan"), "ci_high": float("nan"),
             "n_images": 8, "n_excluded": 0} for metric, (higher, value) in RUN.items()]
    write_table(pd.DataFrame(rows, columns=RESULT_COLUMNS), run / "results.csv")
    (run / "manifest.json").write_text(json.dumps({"suite": {"name": "t", "tolerances": tolerances or {}}}))
    return run


def _baseline(root: Path, *lines: str) -> Path:
    path = root / "bl.csv"
    path.write_text("\n".join([HEADER, *lines]) + "\n")
    return path


def _good_lines() -> list[str]:
    return [_baseline_line(metric, str(higher), str(value)) for metric, (higher, value) in RUN.items()]


def _check(capsys: pytest.CaptureFixture, run: Path, baseline: Path, *extra: str) -> tuple[int, str, str]:
    code = main(["check", str(run), "--baseline", str(baseline), *extra])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def test_exit_codes_pass_and_regress(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    run = _run_dir(tmp_path)
    code, out, _ = _check(capsys, run, _baseline(tmp_path, *_good_lines()))
    assert code == 0 and "PASS: 0 of 3 baseline metrics regressed or missing" in out
    lines = _good_lines()
    lines[0] = _baseline_line("accuracy", "True", "0.6")  # the run is 0.1 worse
    code, out, _ = _check(capsys, run, _baseline(tmp_path, *lines))
    assert code == 1 and "REGRESSED (1)" in out and "FAIL: 1 of 3" in out


@pytest.mark.parametrize("cell", ["", "nan", "NaN"])
def test_R02_a_nan_or_blank_baseline_mean_is_could_not_check(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                              cell: str) -> None:
    lines = _good_lines()
    lines[1] = _baseline_line("auroc", "True", cell)  # CSV row 3
    code, out, _ = _check(capsys, _run_dir(tmp_path), _baseline(tmp_path, *lines))
    assert code == 2
    assert "COULD NOT CHECK (1)" in out
    assert "bl.csv row 3: mean: expected a finite number, got a blank cell" in out
    assert "CANNOT CHECK: 1 of 3 baseline metrics could not be checked, 0 of the rest regressed" in out
    assert "PASS" not in out


def test_R02_could_not_check_wins_over_a_regression(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    lines = _good_lines()
    lines[0] = _baseline_line("accuracy", "True", "0.9")
    lines[1] = _baseline_line("auroc", "True", "")
    code, out, _ = _check(capsys, _run_dir(tmp_path), _baseline(tmp_path, *lines))
    assert code == 2 and "REGRESSED (1)" in out and "1 of the rest regressed or missing" in out


def test_R03_a_blank_higher_is_better_names_the_row(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    lines = _good_lines()
    lines[2] = _baseline_line("deletion-auc", "", "0.3")  # lower is better: True would flip it
    code, out, _ = _check(capsys, _run_dir(tmp_path), _baseline(tmp_path, *lines))
    assert code == 2
    assert "bl.csv row 4: higher_is_better: expected true or false, got a blank cell" in out


def test_R05_a_text_mean_names_the_file_and_row_without_a_traceback(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture) -> None:
    lines = _good_lines()
    lines[0] = _baseline_line("accuracy", "True", "high")
    code, out, _ = _check(capsys, _run_dir(tmp_path), _baseline(tmp_path, *lines))
    assert code == 2
    assert "bl.csv row 2: mean: expected a number, got 'high'" in out


def test_R07_a_baseline_without_rows_is_not_a_pass(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code, out, err = _check(capsys, _run_dir(tmp_path), _baseline(tmp_path))
    assert code == 2 and "baseline has no metrics" in err and "PASS" not in out


def test_R11_a_truncated_manifest_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    run = _run_dir(tmp_path)
    (run / "manifest.json").write_text('{"suite": {"name": ')
    code, _, err = _check(capsys, run, _baseline(tmp_path, *_good_lines()))
    assert code == 2 and "manifest.json unreadable" in err


def test_S09_misspelt_tolerances_cannot_flip_the_verdict(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    # The trial: baseline accuracy 0.515, run 0.500. Spelt right, a 0.001 tolerance fails
    # the run; misspelt, the default 0.02 silently passed it.
    lines = _good_lines()
    lines[0] = _baseline_line("accuracy", "True", "0.515")
    baseline = _baseline(tmp_path, *lines)
    right = _run_dir(tmp_path / "right", {"accuracy": {"absolute": 0.001}})
    code, out, _ = _check(capsys, right, baseline)
    assert code == 1 and "allowed 0.0010" in out
    for name, tolerances, hint in (
            ("metric", {"acuracy": {"absolute": 0.001}}, "did you mean 'accuracy'"),
            ("field", {"default": {"absolut": 0.5}}, "did you mean 'absolute'")):
        typo = _run_dir(tmp_path / name, tolerances)
        code, out, err = _check(capsys, typo, baseline)
        assert code == 2 and hint in err and "PASS" not in out, name
    # And the suite loader's check, at load time:
    with pytest.raises(ToleranceError, match="did you mean 'accuracy'"):
        validate_tolerances({"acuracy": {"absolute": 0.001}}, "suites/s44.toml", ["accuracy", "auroc"])


@pytest.mark.parametrize("value", ["big", -0.5, True])
def test_S10_a_non_numeric_or_negative_tolerance_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                               value) -> None:
    run = _run_dir(tmp_path, {"accuracy": {"absolute": value}})
    code, _, err = _check(capsys, run, _baseline(tmp_path, *_good_lines()))
    assert code == 2 and "tolerances.accuracy.absolute: expected a finite number >= 0" in err
    with pytest.raises(ToleranceError, match="suites/s09b.toml: tolerances.accuracy.absolute"):
        validate_tolerances({"accuracy": {"absolute": value}}, "suites/s09b.toml", ["accuracy"])


def test_S10_a_negative_command_line_tolerance_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code, _, err = _check(capsys, _run_dir(tmp_path), _baseline(tmp_path, *_good_lines()), "--absolute", "-1")
    assert code == 2 and "command line (--absolute/--relative): tolerances.default.absolute" in err


def test_R05_compare_names_a_text_mean_too(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    lines = _good_lines()
    lines[2] = _baseline_line("deletion-auc", "False", "high")
    code = main(["compare", str(_run_dir(tmp_path)), str(_baseline(tmp_path, *lines))])
    out, err = capsys.readouterr()
    assert code == 2 and "bl.csv row 4: mean: expected a number, got 'high'" in err and "Traceback" not in out + err
