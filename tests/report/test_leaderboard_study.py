"""The leaderboard's "Original study format" section."""

from __future__ import annotations

import re

from ropbench.leaderboard import leaderboard_markdown, study_table, summarise
from ropbench.results import read_table
from tests.report.fake_run import CELLS, GENERATOR, PERCENTILES, precision_value


def test_study_section_one_table_per_cell_in_percent(fake_run):
    summary = summarise(read_table(fake_run / "results.csv"))
    text = leaderboard_markdown(summary, title="t")
    section = text.split("## Original study format")[1]
    assert [line for line in section.splitlines() if line.startswith("### ")] == [
        f"### {GENERATOR} / {a} / {e}" for a, e in sorted(CELLS)]
    rows = study_table(summary, GENERATOR, "seed-cnn", "gradcam")
    assert [r[0] for r in rows] == [str(p) for p in PERCENTILES]
    mean = 50 * (precision_value("seed-cnn", "gradcam", 0, 50) + precision_value("seed-cnn", "gradcam", 1, 50))
    # recall@50 is 0.55 in both seeds: std 0 over two seeds.
    assert rows[0][1] == f"{mean:.2f} ± 1.41 / 55.00 ± 0.00"
    assert re.search(rf"\|\s+50 \|\s+{re.escape(rows[0][1])} \|", section)


def test_no_study_section_without_percentile_metrics(fake_run):
    table = read_table(fake_run / "results.csv")
    summary = summarise(table[table["metric"] == "accuracy"])
    assert "Original study format" not in leaderboard_markdown(summary, title="t")


def test_one_seed_values_keep_their_digits(fake_run):
    table = read_table(fake_run / "results.csv")
    summary = summarise(table[(table["seed"] == 0) & (table["metric"] == "accuracy")])
    assert re.search(r"\| seed-cnn\s+\|\s+0\.750 \|", leaderboard_markdown(summary, title="t"))
