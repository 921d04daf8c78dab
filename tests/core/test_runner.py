"""The runner: what a run directory holds whatever fails, and what the manifest records."""

from __future__ import annotations

import json
import textwrap

import pytest

from ropbench.registry import Registry
from ropbench.runner import run_suite
from ropbench.specs import ReporterSpec
from ropbench.suite import load_suite
from ropbench.testing import make_plugin

SUITE = """
name = "tiny"
seeds = [0]
image_size = 32
generators = ["rw-classic"]
architectures = ["seed-cnn"]
explainers = ["random"]
metrics = ["accuracy", "relevance-mass"]
reporters = ["markdown", "csv", {reporter}]

[data]
train = 8
val = 4
test = 4

[training]
epochs = 1
batch_size = 4
"""


def _boom(run_dir, table, manifest, **params):
    raise RuntimeError("reporter exploded")


def _recording(run_dir, table, manifest, **params):
    (run_dir / "params.json").write_text(json.dumps(params))
    return [run_dir / "params.json"]


@pytest.fixture(scope="module")
def registry():
    plugin = make_plugin("test_reporters", ropbench_register_reporters=lambda: [
        ReporterSpec(name="boom", write=_boom),
        ReporterSpec(name="recording", write=_recording, params={"colour": "blue", "size": 1}),
    ])
    return Registry.load(extra=(plugin,))


def _run(tmp_path, registry, reporter: str, cache=None):
    suite = tmp_path / "suite.toml"
    suite.write_text(textwrap.dedent(SUITE.format(reporter=reporter)))
    outcome = run_suite(load_suite(str(suite), registry), registry, cache_dir=cache or tmp_path / "cache",
                        run_dir=tmp_path / "run", verbose=False)
    return outcome, json.loads((tmp_path / "run" / "manifest.json").read_text())


def test_a_raising_reporter_keeps_the_results_and_is_reported(tmp_path, registry):
    outcome, _ = _run(tmp_path, registry, '"boom"')
    assert (tmp_path / "run" / "results.csv").is_file() and (tmp_path / "run" / "leaderboard.md").is_file()
    failure = next(f for f in outcome.failures if f.stage == "report")
    assert "reporter 'boom' raised RuntimeError: reporter exploded" in failure.headline
    assert "reporter exploded" in (tmp_path / "run" / "errors.log").read_text()


def test_reporter_params_come_from_the_suite_over_the_defaults(tmp_path, registry):
    _run(tmp_path, registry, '{ name = "recording", params = { colour = "red" } }')
    assert json.loads((tmp_path / "run" / "params.json").read_text()) == {"colour": "red", "size": 1}


def test_the_manifest_records_each_task_its_inputs_and_who_produced_it(tmp_path, registry):
    _, first = _run(tmp_path, registry, '"html"')
    _, again = _run(tmp_path, registry, '"html"', cache=tmp_path / "cache")
    by_stage = {t["stage"]: t for t in again["tasks"] if t["explainer"] in ("-", "random")}
    assert {t["status"] for t in again["tasks"]} == {"cached"}
    assert all(t["produced_by"]["threads"] == again["threads"] == 1 for t in again["tasks"])
    explain = next(t for t in again["tasks"] if t["stage"] == "explain")
    assert set(explain["inputs"]) == {"data", "train"}
    assert by_stage["train"]["key"] == explain["inputs"]["train"]
    assert again["controls"] == {"explainers": ["random"], "architectures": []}
    assert [t["key"] for t in first["tasks"]] == [t["key"] for t in again["tasks"]]
