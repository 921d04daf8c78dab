"""The boards: the verdict, control rows, the vessel prior beside chance, readable tables."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ropbench.leaderboard import board_data, summarise
from ropbench.report.boards import MAX_METRIC_COLUMNS, BoardData, generator_board
from ropbench.report.controls import ALL_ARCHITECTURES, Controls
from ropbench.report.verdict import NO, NOT_APPLICABLE, VERDICT_HEADER, YES, prior_verdicts
from ropbench.results import RESULT_COLUMNS, read_table
from ropbench.rundir import RunDir
from tests.report.fake_run import GENERATOR

RANK_BY = ("accuracy", "vessel-auroc", "relevance-mass", "deletion-auc")


def _table(rows: list[tuple], generator: str = "g") -> pd.DataFrame:
    """Results rows from (architecture, explainer, seed, metric, value, ci_low[, kind, higher_is_better, chance])."""
    records = []
    for row in rows:
        architecture, explainer, seed, metric, value, ci_low = row[:6]
        kind, higher, chance = row[6:] or ("localization", True, 0.5)
        records.append({"suite": "s", "generator": generator, "architecture": architecture, "explainer": explainer,
                        "seed": seed, "metric": metric, "kind": kind, "higher_is_better": higher, "value": value,
                        "chance": chance, "chance_normalised": 0.0, "ci_low": ci_low, "ci_high": float("nan"),
                        "n_images": 4, "n_excluded": 0})
    return pd.DataFrame(records, columns=RESULT_COLUMNS)


def _board(table: pd.DataFrame, manifest: dict | None = None, generator: str = "g"):
    return {t.section: t for t in generator_board(board_data(table, manifest or {}), generator, RANK_BY)}


def _labels(table) -> list[tuple[str, ...]]:
    return [row.labels for row in table.rows]


# --- the verdict -----------------------------------------------------------------------------

@pytest.mark.parametrize(("rows", "expected"), [
    # Seed 0 clears the prior on prior-skill (0.01 > 0), seed 1 on vessel-auroc (0.51 > 0.5): every seed does.
    ([(0, "prior-skill", 0.01), (0, "vessel-auroc", 0.45), (1, "prior-skill", -0.1), (1, "vessel-auroc", 0.51)], YES),
    # Seed 1 sits exactly on the prior on both metrics: "above" is strict.
    ([(0, "vessel-auroc", 0.60), (1, "vessel-auroc", 0.50), (1, "prior-skill", 0.0)], NO),
    ([(0, "vessel-auroc", 0.55), (1, "vessel-auroc", 0.70)], YES),
    ([(0, "prior-skill", 0.20), (1, "prior-skill", 0.05)], YES),
    # A seed without a CI cannot show it beats the prior.
    ([(0, "vessel-auroc", 0.70), (1, "vessel-auroc", math.nan)], NO),
    # No CI in any seed: nothing to decide on.
    ([(0, "vessel-auroc", math.nan), (1, "prior-skill", math.nan)], NOT_APPLICABLE),
])
def test_verdict_from_hand_made_confidence_bounds(rows, expected):
    table = _table([("cnn", "gradcam", seed, metric, 0.6, low) for seed, metric, low in rows])
    assert prior_verdicts(table) == {("g", "cnn", "gradcam"): expected}


def test_verdict_is_not_applicable_without_either_metric():
    table = _table([("cnn", "gradcam", 0, "relevance-mass", 0.6, 0.5), ("cnn", "gradcam", 0, "vessel-auprc", 0.6, 0.5)])
    assert prior_verdicts(table) == {}
    headline = _board(table)["headline"]
    assert headline.headers[-1] == VERDICT_HEADER and headline.rows[0].cells[-1] == NOT_APPLICABLE


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["prior-skill", "vessel-auroc"]), st.integers(0, 2),
                          st.floats(-1, 1, allow_nan=False)), min_size=1, max_size=6, unique_by=lambda r: r[:2]),
       st.integers(0, 5), st.floats(0, 0.5))
def test_raising_a_confidence_bound_never_turns_yes_into_no(rows, which, raise_by):
    """The verdict is monotone: a better lower bound can only help."""
    table = _table([("cnn", "gradcam", seed, metric, 0.5, low) for metric, seed, low in rows])
    before = prior_verdicts(table)[("g", "cnn", "gradcam")]
    table.loc[which % len(table), "ci_low"] += raise_by
    after = prior_verdicts(table)[("g", "cnn", "gradcam")]
    assert not (before == YES and after == NO)


def test_fake_run_verdicts(fake_run):
    """By hand from fake_run.VESSEL_AUROC / PRIOR_SKILL lower bounds: gradcam 0.62, 0.55 > 0.5;
    the rollout's seed 1 has 0.41 and -0.20; the vessel map sits on 0.5 and 0; the oracle at 1."""
    verdicts = prior_verdicts(read_table(fake_run / "results.csv"))
    assert verdicts[(GENERATOR, "seed-cnn", "gradcam")] == YES
    assert verdicts[(GENERATOR, "vit_tiny_patch16", "rollout")] == NO
    assert verdicts[(GENERATOR, "seed-cnn", "vessel-map")] == NO
    assert verdicts[(GENERATOR, "vit_tiny_patch16", "oracle")] == YES


# --- control rows ------------------------------------------------------------------------------

CONTROL_ORDER = ["random", "vessel-map", "vessel-map-pooled", "oracle"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0, 1, allow_nan=False), min_size=3, max_size=3),
       st.lists(st.floats(0, 1, allow_nan=False), min_size=4, max_size=4))
def test_controls_never_ranked_among_explanations(explanation_scores, control_scores):
    """Whatever the scores, explanations come first, best first; then the controls floor to ceiling."""
    explanations = ["gradcam", "saliency", "cam"]
    rows = [("cnn", e, 0, "vessel-auroc", v, 0.5) for e, v in zip(explanations, explanation_scores)]
    # Suite order puts the controls first, so a board that ignored the marks would interleave them.
    rows = [("cnn", c, 0, "vessel-auroc", v, 0.5) for c, v in zip(CONTROL_ORDER[::-1], control_scores)] + rows
    headline = _board(_table(rows))["headline"]
    labels = [row.labels[1] for row in headline.rows]
    score = dict(zip(explanations, explanation_scores))
    # Ties keep plan order, which is natural (here alphabetical) order.
    assert labels[:3] == sorted(explanations, key=lambda e: (-score[e], e))
    assert labels[3:] == [f"{c} (control)" for c in CONTROL_ORDER]
    assert [row.control for row in headline.rows] == [False] * 3 + [True] * 4


def test_lower_is_better_kinds_rank_ascending_and_keep_controls_last():
    rows = [("cnn", "gradcam", 0, "deletion-auc", 0.4, 0.3, "faithfulness", False, 0.5),
            ("cnn", "saliency", 0, "deletion-auc", 0.2, 0.1, "faithfulness", False, 0.5),
            ("cnn", "random", 0, "deletion-auc", 0.1, 0.0, "faithfulness", False, 0.5)]
    faithfulness = _board(_table(rows))["faithfulness"]
    assert _labels(faithfulness) == [("cnn", "saliency"), ("cnn", "gradcam"), ("cnn", "random (control)")]


def test_whole_image_board_lists_the_vessel_map_after_weaker_explanations(fake_run):
    """fake_run: the vessel map's relevance mass (0.650) beats every explanation (0.510, 0.310)."""
    run = RunDir.open(fake_run)
    board = _board(run.results, run.manifest, GENERATOR)
    assert _labels(board["whole-image"]) == [
        ("seed-cnn", "gradcam"), ("vit_tiny_patch16", "rollout"), (ALL_ARCHITECTURES, "random (control)"),
        (ALL_ARCHITECTURES, "vessel-map (control)"), (ALL_ARCHITECTURES, "oracle (control)")]


def test_whole_image_headers_print_the_vessel_prior_beside_chance(fake_run):
    """Vessel prior = mean of the vessel-map rows: 0.64 and 0.66 for both architectures -> 0.650."""
    run = RunDir.open(fake_run)
    board = _board(run.results, run.manifest, GENERATOR)
    assert "relevance-mass ↑ (chance 0.140, vessel prior 0.650)" in board["whole-image"].headers
    assert "vessel-auroc ↑ (chance 0.500)" in board["headline"].headers


def test_a_missing_control_is_named_once(fake_run):
    run = RunDir.open(fake_run)
    board = _board(run.results, run.manifest, GENERATOR)
    assert board["headline"].notes == ("controls missing: vessel-map-pooled",)
    full = _table([("cnn", c, 0, "vessel-auroc", 0.5, 0.5) for c in CONTROL_ORDER])
    assert _board(full)["headline"].notes == ()


def test_identical_control_rows_merge_only_when_every_architecture_agrees():
    same = [(a, "vessel-map", 0, "vessel-auroc", 0.5, 0.5) for a in ("cnn", "vit")]
    assert _labels(_board(_table(same))["headline"]) == [(ALL_ARCHITECTURES, "vessel-map (control)")]
    pooled = [("cnn", "vessel-map-pooled", 0, "vessel-auroc", 0.7, 0.5),
              ("vit", "vessel-map-pooled", 0, "vessel-auroc", 0.6, 0.5)]
    assert _labels(_board(_table(pooled))["headline"]) == [("cnn", "vessel-map-pooled (control)"),
                                                          ("vit", "vessel-map-pooled (control)")]


def test_shortcut_probe_is_marked_and_listed_after_the_models():
    rows = [(a, "-", 0, "accuracy", v, float("nan"), "classification", True, 0.5)
            for a, v in (("shortcut-probe", 0.9), ("cnn", 0.8), ("vit", 0.7))]
    classification = _board(_table(rows))["classification"]
    assert _labels(classification) == [("cnn",), ("vit",), ("shortcut-probe (control)",)]
    assert classification.notes == ()
    without = _board(_table(rows[1:]))["classification"]
    assert len(without.notes) == 1 and "No shortcut probe" in without.notes[0]


def test_without_prior_controlled_metrics_the_whole_image_table_says_so():
    rows = [("cnn", "gradcam", 0, "relevance-mass", 0.5, 0.4), ("cnn", "vessel-map", 0, "relevance-mass", 0.7, 0.6)]
    board = _board(_table(rows))
    assert "headline" not in board
    assert board["whole-image"].notes[0].startswith("No prior-controlled metric")
    assert _labels(board["whole-image"]) == [("cnn", "gradcam"), ("cnn", "vessel-map (control)")]


def test_wide_kinds_are_split_into_readable_tables():
    rows = [("cnn", "gradcam", 0, f"plugin-score-{k}", 0.5, 0.4) for k in range(16)]
    tables = generator_board(board_data(_table(rows), {}), "g", RANK_BY)
    assert [t.title for t in tables] == [f"Other localization ({k} of 3)" for k in (1, 2, 3)]
    assert all(len(t.headers) <= MAX_METRIC_COLUMNS + 2 for t in tables)
    assert sum(len(t.headers) - 2 for t in tables) == 16


def test_controls_from_a_manifest_or_by_plugin_name():
    manifest = {"suite": {"explainers": [{"label": "vm", "name": "vessel-map"}, {"label": "gc", "name": "gradcam"}]}}
    guessed = Controls.from_manifest(manifest)
    assert guessed.is_control_explainer("vm") and not guessed.is_control_explainer("gc")
    assert guessed.explainer_name("vm") == "vessel-map" and guessed.is_control_explainer("oracle")
    declared = Controls.from_manifest({**manifest, "controls": {"explainers": ["gc"], "architectures": []}})
    assert declared.is_control_explainer("gc") and not declared.is_control_explainer("vm")
    assert not declared.is_control_architecture("shortcut-probe")


def test_board_data_accepts_a_bare_summary(fake_run):
    summary = summarise(read_table(fake_run / "results.csv"))
    board = {t.section: t for t in generator_board(BoardData(summary), GENERATOR, RANK_BY)}
    # No verdicts without the per-seed table: every row says n/a, controls still recognised by name.
    assert {row.cells[-1] for row in board["headline"].rows} == {NOT_APPLICABLE}
    assert board["headline"].rows[-1].labels == (ALL_ARCHITECTURES, "oracle (control)")
