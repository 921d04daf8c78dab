"""The smoke suite end to end through the CLI: outputs, caching, determinism."""

from __future__ import annotations

import json

import pandas as pd

from ropbench.results import RESULT_COLUMNS
from tests.e2e.conftest import run_cli


def test_run_writes_tidy_results_manifest_and_leaderboards(smoke_run):
    cache, run, _ = smoke_run
    table = pd.read_csv(run / "results.csv")
    assert list(table.columns) == RESULT_COLUMNS
    assert set(table["architecture"]) == {"seed-cnn", "vit_tiny_patch16", "shortcut-probe"}
    classification = table[table["kind"] == "classification"]
    assert set(classification["metric"]) == {"accuracy", "auroc"}
    assert (classification["explainer"] == "-").all()
    localization = table[table["kind"] == "localization"]
    assert {"vessel-auroc", "segment-auroc", "prior-skill", "study-precision@90"} <= set(localization["metric"])
    assert localization["n_images"].gt(0).all()
    skill = localization["metric"] == "prior-skill"
    assert localization.loc[~skill, "chance"].between(0, 1).all()
    assert localization.loc[skill, "chance"].le(0).all()  # a random map is no better than the vessel prior
    # every explainer the suite names appears with an architecture that supports it
    assert set(localization["explainer"]) == {"gradcam", "attention-rollout", "random", "vessel-map",
                                              "vessel-map-pooled", "oracle"}
    # the shortcut probe is classified, never explained
    assert "shortcut-probe" not in set(localization["architecture"])
    faithfulness = table[table["kind"] == "faithfulness"]
    assert set(faithfulness["metric"]) == {"deletion-auc"} and faithfulness["value"].notna().all()

    manifest = json.loads((run / "manifest.json").read_text())
    for key in ("ropbench_version", "suite", "seeds", "plugins", "libraries", "stages", "git", "cache_hits"):
        assert key in manifest
    assert manifest["libraries"]["torch"]
    assert manifest["plugins"]["used"]["explainers"]["gradcam"]["version"]
    assert manifest["stages"]["train"]["done"] == 3
    leaderboard = (run / "leaderboard.md").read_text()
    assert "## rw-classic" in leaderboard and "vessel-auroc" in leaderboard
    assert (run / "leaderboard.csv").is_file()


def test_unsupported_pairs_are_listed_not_dropped(smoke_run):
    _, run, process = smoke_run
    manifest = json.loads((run / "manifest.json").read_text())
    unsupported = {(p["architecture"], p["explainer"]) for p in manifest["unsupported_pairs"]}
    assert ("seed-cnn", "attention-rollout") in unsupported
    assert "not applicable: rw-classic/seed-cnn x attention-rollout" in process.stderr


def test_rerun_is_all_cache_hits_and_byte_identical(smoke_run, tmp_path):
    cache, run, _ = smoke_run
    process = run_cli("run", "--suite", "smoke", "--cache-dir", str(cache), "--out", str(tmp_path / "again"),
                      "--threads", "2", "--quiet")
    assert process.returncode == 0, process.stderr[-3000:]
    manifest = json.loads((tmp_path / "again" / "manifest.json").read_text())
    for stage, counts in manifest["stages"].items():
        assert counts.get("cached", 0) == counts["tasks"], (stage, counts)
    assert (tmp_path / "again" / "results.csv").read_bytes() == (run / "results.csv").read_bytes()


def test_check_passes_against_its_own_leaderboard_and_fails_on_perturbation(smoke_run, tmp_path):
    _, run, _ = smoke_run
    assert run_cli("check", str(run), "--baseline", str(run / "leaderboard.csv")).returncode == 0
    baseline = pd.read_csv(run / "leaderboard.csv")
    row = baseline.index[(baseline["metric"] == "accuracy")][0]
    baseline.loc[row, "mean"] = baseline.loc[row, "mean"] + 0.3  # the run now looks 0.3 worse
    perturbed = tmp_path / "perturbed.csv"
    baseline.to_csv(perturbed, index=False)
    process = run_cli("check", str(run), "--baseline", str(perturbed))
    assert process.returncode == 1
    assert "REGRESSED (1)" in process.stdout and "accuracy" in process.stdout and "-0.3000" in process.stdout


def test_worker_processes_write_the_same_bytes(smoke_run, tmp_path):
    """The local executor's parallel workers compute exactly what one process does."""
    _, run, _ = smoke_run
    process = run_cli("run", "--suite", "smoke", "--cache-dir", str(tmp_path / "cache"), "--out",
                      str(tmp_path / "parallel"), "--threads", "2", "--option", "workers=2", "--quiet")
    assert process.returncode == 0, process.stderr[-3000:]
    for name in ("results.csv", "per_image.csv"):
        assert (tmp_path / "parallel" / name).read_bytes() == (run / name).read_bytes(), name
