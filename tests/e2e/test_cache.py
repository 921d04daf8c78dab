"""The cache keeps its promises end to end: a rerun recomputes nothing, a changed input
recomputes exactly what depends on it, and a lost or damaged entry heals itself."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest

import ropbench.tasks
from ropbench.registry import Registry
from ropbench.runner import run_suite
from ropbench.suite import load_suite
from ropbench.testing import make_plugin

TINY = """
name = "tiny"
seeds = [0]
image_size = 32
generators = ["rw-classic"]
architectures = ["seed-cnn"]
explainers = ["gradcam", {{ name = "scorecam", params = {{ batch_size = {chunk} }} }}, "random"]
metrics = ["accuracy", "relevance-mass", "vessel-auroc"]

[data]
train = 16
val = 8
test = 8

[training]
epochs = 1
batch_size = 8
"""


def _suite(tmp_path: Path, chunk: int = 16) -> Path:
    path = tmp_path / f"tiny-{chunk}.toml"
    path.write_text(textwrap.dedent(TINY.format(chunk=chunk)))
    return path


def _run(suite: Path, cache: Path, out: Path, registry: Registry | None = None):
    registry = registry or Registry.load()
    outcome = run_suite(load_suite(str(suite), registry), registry, cache_dir=cache, run_dir=out, verbose=False)
    manifest = json.loads((out / "manifest.json").read_text())
    statuses = {(t["stage"], t["label"]): t["status"] for t in manifest["tasks"]}
    return outcome, statuses, (out / "results.csv").read_bytes()


@pytest.fixture(scope="module")
def warm(tmp_path_factory):
    """A warm cache of the tiny suite and its results, copied by each test that damages it."""
    root = tmp_path_factory.mktemp("warm")
    outcome, statuses, results = _run(_suite(root), root / "cache", root / "first")
    assert outcome.ok and set(statuses.values()) == {"done"}
    return root, results


def _copy(warm, tmp_path) -> Path:
    root, _ = warm
    cache = tmp_path / "cache"
    shutil.copytree(root / "cache", cache)
    return cache


def test_a_rerun_recomputes_nothing_and_writes_the_same_bytes(warm, tmp_path):
    root, results = warm
    cache = _copy(warm, tmp_path)
    outcome, statuses, again = _run(_suite(root), cache, tmp_path / "again")
    assert outcome.ok and set(statuses.values()) == {"cached"}
    assert again == results


def test_changing_only_a_chunk_size_recomputes_nothing(warm, tmp_path):
    cache = _copy(warm, tmp_path)
    outcome, statuses, again = _run(_suite(tmp_path, chunk=3), cache, tmp_path / "again")
    assert outcome.ok and set(statuses.values()) == {"cached"}
    assert again == warm[1]


def test_bumping_the_result_schema_recomputes_everything(warm, tmp_path, monkeypatch):
    cache = _copy(warm, tmp_path)
    monkeypatch.setattr(ropbench.tasks, "RESULT_SCHEMA_VERSION", ropbench.tasks.RESULT_SCHEMA_VERSION + 1)
    outcome, statuses, again = _run(_suite(tmp_path), cache, tmp_path / "again")
    assert outcome.ok and set(statuses.values()) == {"done"}
    assert again == warm[1]  # the same code computes the same numbers


ENTRY_KINDS = ["data/*.train.pt", "data/*.test.pt", "models/*.pt", "predictions/*.pt", "heatmaps/*.pt",
               "scores/*.json", "results/*.json"]


@pytest.mark.parametrize("damage", ["delete", "garble"])
@pytest.mark.parametrize("pattern", ENTRY_KINDS)
def test_any_lost_or_damaged_entry_heals_on_rerun(warm, tmp_path, pattern, damage):
    """C01, C02, C03, C06: every kind of file, deleted or overwritten with garbage, is
    recomputed by the rerun (exit 0, the same results), never 'delete it and rerun'."""
    cache = _copy(warm, tmp_path)
    namespace, glob = pattern.split("/")
    victims = sorted((cache / namespace).glob(f"*/{glob}"))
    assert victims, f"no {pattern} entry in the warm cache"
    for victim in victims[:2]:
        if damage == "delete":
            victim.unlink()
        else:
            victim.write_bytes(b"\x00garbage{{{" * 50)
    outcome, statuses, again = _run(_suite(tmp_path), cache, tmp_path / "again")
    assert outcome.ok, [f.error for f in outcome.failures]
    assert again == warm[1]
    assert "done" in statuses.values()  # something was recomputed


def test_every_task_is_observed_by_a_plugin(warm, tmp_path):
    seen: list[tuple[str, str, str]] = []
    observer = make_plugin("observer", ropbench_task_finished=lambda stage, label, status, info:
                           seen.append((stage, label, status)))
    registry = Registry.load(extra=(observer,))
    cache = _copy(warm, tmp_path)
    _, statuses, _ = _run(_suite(tmp_path), cache, tmp_path / "again", registry)
    assert sorted((stage, label, status) for (stage, label), status in statuses.items()) == sorted(seen)
    assert {stage for stage, _, _ in seen} == {"data", "train", "explain", "score"}


def test_refresh_recomputes_the_matching_tasks_only(warm, tmp_path):
    cache = _copy(warm, tmp_path)
    registry = Registry.load()
    suite = load_suite(str(_suite(tmp_path)), registry)
    run_suite(suite, registry, cache_dir=cache, run_dir=tmp_path / "again", verbose=False, refresh=("*/random",))
    manifest = json.loads((tmp_path / "again" / "manifest.json").read_text())
    done = sorted((t["stage"], t["label"]) for t in manifest["tasks"] if t["status"] == "done")
    assert done == [("explain", "rw-classic/seed-cnn/seed=0/random"), ("score", "rw-classic/seed-cnn/seed=0/random")]
    assert (tmp_path / "again" / "results.csv").read_bytes() == warm[1]
