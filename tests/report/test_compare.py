"""``ropbench compare``: two runs side by side, direction-aware."""

from __future__ import annotations

import pandas as pd
import pytest

from ropbench.cli.main import main
from ropbench.compare import compare_summaries, comparison_markdown, load_summary
from ropbench.leaderboard import summarise
from ropbench.results import read_table, write_table


def _summary(rows: list[tuple[str, str, bool, float]]) -> pd.DataFrame:
    return pd.DataFrame([{"generator": "g", "architecture": a, "explainer": "-", "metric": m,
                          "higher_is_better": h, "mean": v, "std": float("nan")} for a, m, h, v in rows])


def test_better_and_worse_follow_each_metric_direction():
    a = _summary([("cnn", "accuracy", True, 0.8), ("cnn", "deletion-auc", False, 0.3),
                  ("cnn", "auroc", True, 0.9), ("vit", "accuracy", True, 0.7)])
    b = _summary([("cnn", "accuracy", True, 0.7), ("cnn", "deletion-auc", False, 0.2),
                  ("cnn", "auroc", True, 0.9), ("cnn", "f1", True, 0.5)])
    comparison = compare_summaries(a, b)
    change = {(r.architecture, r.metric): r.change for r in comparison.itertuples()}
    assert change == {("cnn", "accuracy"): "worse", ("cnn", "deletion-auc"): "better",
                      ("cnn", "auroc"): "same", ("cnn", "f1"): "only in B", ("vit", "accuracy"): "only in A"}
    assert comparison.set_index("metric").loc["deletion-auc", "delta"] == pytest.approx(-0.1)
    text = comparison_markdown(comparison, "old", "new")
    assert "| A: old" in text and "deletion-auc ↓" in text and "-0.1000" in text
    assert "5 metrics: 1 better, 1 worse, 1 same, 1 only in A, 1 only in B" in text


def test_metric_globs_filter_rows():
    a = _summary([("cnn", "accuracy", True, 0.8), ("cnn", "percentile-recall@50", True, 0.4)])
    comparison = compare_summaries(a, a, ["percentile-*"])
    assert list(comparison["metric"]) == ["percentile-recall@50"]


def test_cli_compares_a_run_with_a_perturbed_copy_and_a_leaderboard_csv(fake_run, tmp_path, capsys):
    table = read_table(fake_run / "results.csv")
    table.loc[table["metric"] == "accuracy", "value"] -= 0.1
    other = tmp_path / "other"
    other.mkdir()
    write_table(table, other / "results.csv")
    assert main(["compare", str(fake_run), str(other), "--metric", "accuracy"]) == 0
    out = capsys.readouterr().out
    assert out.count("| worse") == 3 and "-0.1000" in out and "percentile" not in out  # 2 models + the probe
    leaderboard = tmp_path / "leaderboard.csv"
    summarise(read_table(fake_run / "results.csv")).to_csv(leaderboard, index=False)
    assert len(load_summary(leaderboard)) == len(load_summary(fake_run))
    assert main(["compare", str(fake_run), str(leaderboard)]) == 0
    assert "0 better, 0 worse" in capsys.readouterr().out


def test_cli_rejects_what_is_not_a_run(tmp_path, capsys):
    assert main(["compare", str(tmp_path), str(tmp_path / "nothing")]) == 2
    assert "not a run directory" in capsys.readouterr().err
