"""The markdown leaderboard: board order, the percentile section and the "Original study format"."""

from __future__ import annotations

import re

from ropbench.leaderboard import leaderboard_markdown, run_leaderboard_markdown, summarise
from ropbench.report.controls import Controls
from ropbench.report.study import STUDY_CNN_GRADCAM, STUDY_VIT_ROLLOUT
from ropbench.results import read_table
from ropbench.rundir import RunDir
from tests.report.fake_run import GENERATOR, PERCENTILES, STUDY_CHANCE, study_precision_value


def _markdown(fake_run) -> str:
    run = RunDir.open(fake_run)
    return run_leaderboard_markdown(run.results, run.manifest)


def _section(text: str, heading: str) -> str:
    return text.split(heading, 1)[1].split("\n## ", 1)[0]


def test_board_leads_with_what_survives_the_prior(fake_run):
    text = _markdown(fake_run)
    headings = [line for line in text.splitlines() if line.startswith("### ")][:4]
    assert headings == ["### Classification (test set) — ranked by accuracy",
                        "### Localization beyond the vessel prior — ranked by vessel-auroc",
                        "### Whole-image localization (chance = a uniformly random map; vessel prior = the "
                        "vessel-map control) — ranked by vessel-auroc",
                        "### Faithfulness — ranked by deletion-auc"]
    headline = text.split("### Localization beyond the vessel prior")[1].split("###")[0]
    assert re.search(r"\| seed-cnn\s+\| gradcam\s+\|.*\| yes\s+\|", headline)
    assert re.search(r"\| all architectures \| oracle \(control\)\s+\|.*\| yes\s+\|", headline)
    assert "controls missing: vessel-map-pooled" in headline
    assert re.search(r"\| shortcut-probe \(control\) \|\s+0\.500 ± 0\.000 \|", text)


def test_percentile_metrics_have_their_own_section(fake_run):
    text = _markdown(fake_run)
    board = text.split("## Percentile thresholds")[0]
    assert "percentile-precision@" not in board and "study-precision@50 ↑" not in board
    section = _section(text, "## Percentile thresholds")
    titles = [line for line in section.splitlines() if line.startswith("### ")]
    assert titles == [f"### {GENERATOR}: {f}@p" for f in
                      ("percentile-precision", "percentile-recall", "study-precision", "study-recall")]
    assert "percentile-precision@50 ↑ (chance 0.140)" in section


def test_study_section_puts_the_study_numbers_beside_ropbench(fake_run):
    section = _section(_markdown(fake_run), "## Original study format")
    titles = [line for line in section.splitlines() if line.startswith("### ")]
    # The rollout's label is "rollout"; its plugin, attention-rollout, picks the ViT column.
    assert titles == [f"### {GENERATOR} / seed-cnn / gradcam beside the study's CNN Grad-CAM (50 images; "
                      "ropbench 4 per seed)",
                      f"### {GENERATOR} / vit_tiny_patch16 / rollout beside the study's ViT rollout (5 images; "
                      "ropbench 4 per seed)"]
    cnn, vit = section.split("### ")[1:3]
    for p in PERCENTILES:
        # ropbench: mean and sample std of the two seeds' hand-set values, in percent.
        seeds = [100 * study_precision_value("gradcam", s, p) for s in (0, 1)]
        mean, std = sum(seeds) / 2, abs(seeds[0] - seeds[1]) / 2 ** 0.5
        recall = 100 * (1 - p / 100)
        study_p, study_r = STUDY_CNN_GRADCAM.precision_recall[p]
        chance = f"{100 * STUDY_CHANCE:.2f} / {recall:.2f}"
        assert re.search(rf"\|\s+{p} \|\s+{mean:.2f} ± {std:.2f} / {recall:.2f} ± 0\.00 \|\s+{study_p:.2f} / "
                         rf"{study_r:.2f} \|\s+{re.escape(chance)} \|\s+{re.escape(chance)} \|", cnn), p
        vit_p, vit_r = STUDY_VIT_ROLLOUT.precision_recall[p]
        assert re.search(rf"\|\s+{vit_p:.2f} / {vit_r:.2f} \|", vit), p
    assert re.search(r"\|\s+50 \|[^\n]*\|\s+57\.34 / 65\.57 \|", cnn)  # Table 1 at p = 50, as published
    assert re.search(r"\|\s+50 \|[^\n]*\|\s+18\.29 / 99\.63 \|", vit)
    assert "244 px" in section and "this run: 16 px" in section


def test_no_study_section_without_study_metrics(fake_run):
    table = read_table(fake_run / "results.csv")
    kept = table[~table["metric"].str.startswith("study-")]
    text = leaderboard_markdown(summarise(kept), title="t")
    assert "Original study format" not in text and "## Percentile thresholds" in text


def test_one_seed_values_keep_their_digits(fake_run):
    table = read_table(fake_run / "results.csv")
    summary = summarise(table[(table["seed"] == 0) & (table["metric"] == "accuracy")])
    assert re.search(r"\| seed-cnn\s+\|\s+0\.750 \|", leaderboard_markdown(summary, title="t"))


def test_summary_can_mark_controls_as_a_last_column(fake_run):
    run = RunDir.open(fake_run)
    summary = summarise(run.results, Controls.from_manifest(run.manifest))
    assert list(summary.columns)[-1] == "control"
    marked = summary[summary["control"]]
    assert set(marked["explainer"]) == {"random", "vessel-map", "oracle", "-"}
    assert set(marked[marked["explainer"] == "-"]["architecture"]) == {"shortcut-probe"}
