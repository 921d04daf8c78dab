"""The planner: what each task's key depends on, and which pairs are left out (and why)."""

from __future__ import annotations

import dataclasses

import pytest
from torch import nn

import ropbench.tasks
from ropbench.modelinfo import ModelInfo, attach_model_info
from ropbench.planning import build_plan
from ropbench.specs import ArchitectureSpec, ExplainerSpec, GeneratorSpec, MetricSpec, ReporterSpec
from ropbench.suite import parse_suite
from ropbench.tasks import DataTask, ExplainTask, ScoreTask, TrainTask
from tests.core.conftest import make_plugin


def _model(family: str) -> nn.Module:
    return attach_model_info(nn.Linear(1, 2), ModelInfo(family=family, target_layer="" if family == "probe" else "x"))


def _plugin(fingerprint: str = "files-v1"):
    return make_plugin(
        "fake",
        ropbench_register_generators=lambda: [
            GeneratorSpec(name="gen", generate=None, params={"p": 1, "chunk": 8}, execution_params=frozenset({"chunk"})),
            GeneratorSpec(name="files", generate=None, source="dataset", params={"path": ""},
                          fingerprint=lambda path: f"{path}:{fingerprint}"),
        ],
        ropbench_register_architectures=lambda: [
            ArchitectureSpec(name="cnn", build=lambda n, size, **k: _model("cnn")),
            ArchitectureSpec(name="vit", build=lambda n, size, **k: _model("vit")),
            ArchitectureSpec(name="probe", build=lambda n, size, **k: _model("probe")),
        ],
        ropbench_register_explainers=lambda: [
            ExplainerSpec(name="cam", explain=None, supports=lambda m: m.ropbench_model_info.family == "cnn"),
            ExplainerSpec(name="noise", explain=None, supports=lambda m: True, control=True,
                          params={"batch_size": 4}, execution_params=frozenset({"batch_size"})),
        ],
        ropbench_register_metrics=lambda: [
            MetricSpec(name="acc", kind="classification", higher_is_better=True, compute=None),
            MetricSpec(name="mass", kind="localization", higher_is_better=True, compute=None),
            MetricSpec(name="auc", kind="localization", higher_is_better=True, compute=None),
        ],
        ropbench_register_reporters=lambda: [ReporterSpec(name="markdown", write=None),
                                             ReporterSpec(name="csv", write=None)],
    )


def _suite(registry, **changes):
    raw = {"name": "t", "seeds": [0], "image_size": 16, "generators": ["gen"],
           "architectures": ["cnn", "vit"], "explainers": ["cam", "noise"], "metrics": ["acc", "mass"],
           "data": {"train": 4, "val": 2, "test": 2}, **changes}
    return parse_suite(raw, "suite.toml", registry)


def _keys(plan, kind):
    return {(t.cell.architecture, t.cell.explainer): t.key for t in plan.tasks if isinstance(t, kind)}


@pytest.fixture
def registry(registry_of):
    return registry_of(_plugin())


def test_stages_and_their_dependencies(registry):
    plan = build_plan(_suite(registry), registry)
    counts = {kind.__name__: sum(isinstance(t, kind) for t in plan.tasks)
              for kind in (DataTask, TrainTask, ExplainTask, ScoreTask)}
    assert counts == {"DataTask": 1, "TrainTask": 2, "ExplainTask": 3, "ScoreTask": 5}
    seen: set[str] = set()
    for task in plan.tasks:  # topological: every dependency is planned before its dependant
        assert set(task.depends_on) <= seen
        seen.add(task.key)


def test_unsupported_pairs_are_listed_with_the_reason(registry):
    plan = build_plan(_suite(registry, architectures=["cnn", "vit", "probe"]), registry)
    reasons = {(p.architecture, p.explainer): p.reason for p in plan.unsupported}
    assert reasons[("vit", "cam")] == "cam does not support vit"
    assert "control classifier without heatmaps" in reasons[("probe", "noise")]
    assert plan.control_architectures == ["probe"] and plan.control_explainers == ["noise"]
    # the probe is still trained and scored for classification
    assert any(isinstance(t, ScoreTask) and t.cell.architecture == "probe" and t.heatmaps is None for t in plan.tasks)


def test_a_label_change_keeps_every_key(registry):
    plain = build_plan(_suite(registry), registry)
    relabelled = build_plan(_suite(registry, generators=[{"name": "gen", "label": "renamed"}],
                                   explainers=["cam", {"name": "noise", "label": "my-noise"}]), registry)
    assert [t.key for t in plain.tasks] == [t.key for t in relabelled.tasks]
    assert {t.cell.generator for t in relabelled.tasks} == {"renamed"}


def test_adding_a_metric_keeps_model_and_heatmap_keys(registry):
    before = build_plan(_suite(registry), registry)
    after = build_plan(_suite(registry, metrics=["acc", "mass", "auc"]), registry)
    for kind in (DataTask, TrainTask, ExplainTask):
        assert _keys(before, kind) == _keys(after, kind)
    assert _keys(before, ScoreTask) != _keys(after, ScoreTask)
    score = next(t for t in after.tasks if isinstance(t, ScoreTask) and t.heatmaps is not None)
    old = next(t for t in before.tasks if isinstance(t, ScoreTask) and t.cell == score.cell)
    mass = next(m for m in score.metrics if m.name == "mass")
    assert score.metric_key(mass) == old.metric_key(next(m for m in old.metrics if m.name == "mass"))


def test_execution_parameters_and_batch_sizes_stay_out_of_keys(registry):
    base = build_plan(_suite(registry), registry)
    faster = build_plan(_suite(registry, generators=[{"name": "gen", "params": {"chunk": 64}}],
                               explainers=["cam", {"name": "noise", "params": {"batch_size": 32}}],
                               scoring={"explain_batch_size": 2}), registry)
    assert [t.key for t in base.tasks] == [t.key for t in faster.tasks]
    noise = next(t for t in faster.tasks if isinstance(t, ExplainTask) and t.cell.explainer == "noise")
    assert noise.explainer.call_params() == {"batch_size": 32} and noise.batch_size == 2
    changed = build_plan(_suite(registry, generators=[{"name": "gen", "params": {"p": 2}}]), registry)
    assert _keys(base, DataTask) != _keys(changed, DataTask)


def test_per_entry_device_is_honoured_but_not_keyed(registry):
    plan = build_plan(_suite(registry, architectures=["cnn", {"name": "vit", "training": {"device": "cpu"}}],
                             training={"device": "cuda"}), registry)
    trains = {t.cell.architecture: t for t in plan.tasks if isinstance(t, TrainTask)}
    assert trains["cnn"].device == "cuda" and trains["vit"].device == "cpu"
    assert trains["vit"].resources["gpu"] == 0.0 and trains["cnn"].resources["gpu"] == 1.0
    cpu_plan = build_plan(_suite(registry, training={"device": "cpu"}), registry)
    assert {t.key for t in cpu_plan.tasks if isinstance(t, TrainTask)} == {t.key for t in trains.values()}


def test_every_key_holds_the_result_schema_version(registry, monkeypatch):
    before = build_plan(_suite(registry), registry)
    monkeypatch.setattr(ropbench.tasks, "RESULT_SCHEMA_VERSION", ropbench.tasks.RESULT_SCHEMA_VERSION + 1)
    after = build_plan(_suite(registry), registry)
    assert not {t.key for t in before.tasks} & {t.key for t in after.tasks}


def test_a_dataset_is_keyed_by_its_fingerprint(registry_of):
    first = registry_of(_plugin("files-v1"))
    second = registry_of(_plugin("files-v2"))
    suite = {"generators": [{"name": "files", "params": {"path": "/data"}}]}
    one = _keys(build_plan(_suite(first, **suite), first), DataTask)
    two = _keys(build_plan(_suite(second, **suite), second), DataTask)
    assert one != two
    data = next(t for t in build_plan(_suite(first, **suite), first).tasks if isinstance(t, DataTask))
    assert data.fingerprint == "/data:files-v1" and data.source == "dataset"


def test_tasks_are_hashable_picklable_values(registry):
    import pickle

    plan = build_plan(_suite(registry), registry)
    for task in plan.tasks:
        copy = pickle.loads(pickle.dumps(task))
        assert copy.key == task.key and copy == task
        assert dataclasses.is_dataclass(task)


def test_an_entry_asking_for_pretrained_weights_without_a_file_is_skipped_with_the_reason(registry_of):
    plugin = make_plugin("weights", ropbench_register_architectures=lambda: [
        ArchitectureSpec(name="big-vit", build=lambda n, size, **k: _model("vit"),
                         params={"pretrained": False, "weights": ""})])
    registry = registry_of(_plugin(), plugin)
    plan = build_plan(_suite(registry, architectures=["cnn", {"name": "big-vit", "params": {"pretrained": True}}]),
                      registry)
    assert set(plan.unavailable) == {"big-vit"} and "names no local weights file" in plan.unavailable["big-vit"]
    assert {t.cell.architecture for t in plan.tasks if isinstance(t, TrainTask)} == {"cnn"}
