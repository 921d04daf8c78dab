"""The ray executor's decisions that need no Ray: registration, resources, environment."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import types

import pytest

from ropbench.errors import RopbenchError
from ropbench.planning import build_plan
from ropbench.registry import Registry
from ropbench.suite import load_suite
from ropbench_plugins.executors.ray_executor import (
    PROBE_FOLDER,
    execute_in_worker,
    forwarded_environment,
    run_on_ray,
    task_options,
)
from tests.executors.fakes import RecordingProgress, ScriptedRuntime, make_task

COMMON = {"threads": 1, "largest_node_cpus": 8.0, "env_vars": {}, "max_retries": 3}


def test_ray_is_registered_and_listing_it_does_not_import_ray():
    assert Registry.load().executors.get("ray").run is run_on_ray
    probe = ("import sys; from ropbench.registry import Registry; "
             "Registry.load().executors.get('ray'); print('ray' in sys.modules)")
    process = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert process.stdout.strip() == "False", process.stderr[-2000:]


def test_missing_ray_names_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    with pytest.raises(RopbenchError, match=r"pip install 'ropbench\[ray\]'"):
        run_on_ray([make_task("a")], ScriptedRuntime(str(tmp_path)), RecordingProgress())


def test_a_gpu_only_when_the_task_asks_and_the_cluster_has_one():
    wants_gpu = make_task("t", resources={"cpu": 1.0, "gpu": 1.0})
    assert task_options(wants_gpu, cluster_gpus=2.0, **COMMON)["num_gpus"] == 1.0
    assert task_options(wants_gpu, cluster_gpus=0.0, **COMMON)["num_gpus"] == 0.0
    cpu_only = make_task("d", stage="data")
    assert task_options(cpu_only, cluster_gpus=2.0, **COMMON)["num_gpus"] == 0.0


def test_cpu_tasks_cannot_see_gpus_that_ray_gave_to_others():
    cpu_only = make_task("d", stage="data")
    on_gpu_cluster = task_options(cpu_only, cluster_gpus=1.0, **COMMON)
    assert on_gpu_cluster["runtime_env"]["env_vars"]["CUDA_VISIBLE_DEVICES"] == ""
    assert "runtime_env" not in task_options(cpu_only, cluster_gpus=0.0, **COMMON)
    granted = task_options(make_task("t", resources={"cpu": 1, "gpu": 1}), cluster_gpus=1.0, **COMMON)
    assert "runtime_env" not in granted  # Ray sets CUDA_VISIBLE_DEVICES to the granted GPU


def test_cpus_follow_the_thread_count_but_fit_the_largest_node():
    task = make_task("t")
    assert task_options(task, cluster_gpus=0, **{**COMMON, "threads": 4})["num_cpus"] == 4.0
    assert task_options(task, cluster_gpus=0, **{**COMMON, "threads": 0})["num_cpus"] == 1.0
    assert task_options(task, cluster_gpus=0, **{**COMMON, "threads": 16})["num_cpus"] == 8.0


def test_lost_workers_are_retried_but_task_errors_are_not():
    options = task_options(make_task("t"), cluster_gpus=0, **{**COMMON, "max_retries": 5})
    assert options["max_retries"] == 5 and options["retry_exceptions"] is False
    assert options["name"] == "ropbench train cell-t"  # the worker's process title while it runs


def test_only_ropbench_variables_are_forwarded():
    environ = {"ROPBENCH_DISABLE_PLUGINS": "x", "HOME": "/root", "ROPBENCH_CACHE_DIR": "/c"}
    assert forwarded_environment(environ) == {"ROPBENCH_DISABLE_PLUGINS": "x", "ROPBENCH_CACHE_DIR": "/c"}
    merged = task_options(make_task("d"), cluster_gpus=0, **{**COMMON, "env_vars": {"ROPBENCH_X": "1"}})
    assert merged["runtime_env"] == {"env_vars": {"ROPBENCH_X": "1"}}


def test_a_worker_that_does_not_see_the_cache_fails_its_task_by_name(tmp_path):
    missing_probe = str(tmp_path / "cache" / PROBE_FOLDER / "token")
    outcome = execute_in_worker(ScriptedRuntime(str(tmp_path)), make_task("a"), missing_probe)
    assert outcome.status == "failed"
    assert f"does not see the cache at {tmp_path / 'cache'}" in outcome.error
    assert "docs/ray.md" in outcome.error
    probe = tmp_path / "probe"
    probe.touch()
    assert execute_in_worker(ScriptedRuntime(str(tmp_path)), make_task("a"), str(probe)).status == "done"


def test_the_plan_asks_a_gpu_for_train_explain_and_score_unless_the_suite_says_cpu():
    registry = Registry.load()
    plan = build_plan(load_suite("smoke", registry), registry)
    wants = {task.stage: task.resources["gpu"] for task in plan.tasks}
    assert wants == {"data": 0.0, "train": 1.0, "explain": 1.0, "score": 1.0}
    on_cpu = dataclasses.replace(load_suite("smoke", registry), training=dataclasses.replace(
        load_suite("smoke", registry).training, device="cpu"))
    assert {task.resources["gpu"] for task in build_plan(on_cpu, registry).tasks} == {0.0}


def test_a_plan_whose_dependency_is_missing_is_refused_not_waited_on(monkeypatch, tmp_path):
    fake_ray = types.SimpleNamespace(is_initialized=lambda: True)
    monkeypatch.setitem(sys.modules, "ray", fake_ray)  # the check comes before any Ray call
    with pytest.raises(ValueError, match="depends on"):
        run_on_ray([make_task("b", "not-in-plan")], ScriptedRuntime(str(tmp_path)), RecordingProgress())
