"""The ray executor on a real local Ray instance (one per module: Ray starts slowly).

Scheduling semantics use scripted fake tasks (seconds); the acceptance tests run the
smoke suite: byte-identical to the local executor, and complete after a worker is
killed mid-training with no finished stage recomputed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

from ropbench.registry import get_registry  # noqa: E402
from ropbench.runner import run_suite  # noqa: E402
from ropbench.suite import load_suite  # noqa: E402
from ropbench_plugins.executors.ray_executor import run_on_ray  # noqa: E402
from tests.executors import fakes  # noqa: E402
from tests.executors.fakes import RecordingProgress, ScriptedRuntime, make_task  # noqa: E402

pytestmark = pytest.mark.ray

ROPBENCH = [sys.executable, "-m", "ropbench.cli.main"]
THREADS = "2"  # the same torch thread count in both executors: results are bit-identical


@pytest.fixture(scope="module")
def ray_address():
    """A local Ray instance for the whole module; its address, for CLI runs to join.

    It declares one GPU that does not exist: Ray schedules it like a real one (train and
    explain tasks wait for it and get ``CUDA_VISIBLE_DEVICES=0``), torch finds no CUDA and
    computes on the CPU, so the GPU path runs here and results stay comparable.
    """
    ray.init(address="local", num_cpus=2, num_gpus=1, include_dashboard=False, logging_level="warning")
    ray.cloudpickle.register_pickle_by_value(fakes)  # workers need not import tests/
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


def _run(tasks, runtime, progress=None, **options):
    return run_on_ray(tasks, runtime, progress or RecordingProgress(), poll_seconds=0.1, **options)


# ---- scheduling, with scripted tasks ------------------------------------------------

def test_a_failure_skips_only_its_dependants_and_is_not_retried(ray_address, tmp_path):
    runtime = ScriptedRuntime(str(tmp_path))
    tasks = [make_task("a"), make_task("fail"), make_task("b", "fail"), make_task("c", "b"),
             make_task("d", "a"), make_task("raise")]
    progress = RecordingProgress()
    report = _run(tasks, runtime, progress)
    status = {key: outcome.status for key, outcome in report.outcomes.items()}
    assert status == {"a": "done", "fail": "failed", "b": "skipped", "c": "skipped", "d": "done",
                      "raise": "failed"}
    assert "its train stage cell-fail failed" in report.outcomes["b"].error
    assert "escaped the runtime" in report.outcomes["raise"].error  # named, not swallowed
    assert runtime.attempts("fail") == runtime.attempts("raise") == 1  # task errors are final
    assert runtime.attempts("b") == 0 and not report.interrupted
    for key in ("a", "fail", "d", "raise"):  # like local: started, then finished, once
        assert progress.events.index(("started", key)) < progress.events.index(("finished", key))
    assert ("started", "b") not in progress.events
    assert sorted(k for kind, k in progress.events if kind == "finished") == sorted(status)


def test_a_lost_worker_is_retried_and_reported_when_it_keeps_dying(ray_address, tmp_path):
    runtime = ScriptedRuntime(str(tmp_path))
    report = _run([make_task("crash-once"), make_task("after", "crash-once")], runtime)
    assert report.outcomes["crash-once"].status == "done" and runtime.attempts("crash-once") == 2
    assert report.outcomes["after"].status == "done"

    report = _run([make_task("crash-always"), make_task("other")], runtime, max_retries=1)
    assert report.outcomes["crash-always"].status == "failed"
    assert "worker lost 2 times" in report.outcomes["crash-always"].error
    assert runtime.attempts("crash-always") == 2 and report.outcomes["other"].status == "done"


def test_ctrl_c_cancels_running_tasks_and_returns_what_finished(ray_address, tmp_path):
    runtime = ScriptedRuntime(str(tmp_path), slow_seconds=60)

    class StopOnceSlowRuns(RecordingProgress):
        def finished(self, task, outcome):
            deadline = time.time() + 60
            while runtime.attempts("slow") == 0 and time.time() < deadline:
                time.sleep(0.05)
            super().finished(task, outcome)

    started = time.perf_counter()
    report = _run([make_task("a"), make_task("slow"), make_task("later", "slow")], runtime,
                  StopOnceSlowRuns(interrupt_after=1))
    assert report.interrupted and time.perf_counter() - started < 45
    assert report.outcomes["a"].status == "done" and set(report.outcomes) == {"a"}
    slow_pid = int((tmp_path / "slow.attempt-1").read_text())
    deadline = time.time() + 20
    while _alive(slow_pid) and time.time() < deadline:
        time.sleep(0.1)
    assert not _alive(slow_pid), "the running task's worker was not stopped"


def test_ropbench_variables_reach_the_workers(ray_address, tmp_path, monkeypatch):
    monkeypatch.setenv("ROPBENCH_FAKE_PROBE", "seen by the worker")
    report = _run([make_task("report")], ScriptedRuntime(str(tmp_path)))
    assert json.loads(report.outcomes["report"].error)["probe"] == "seen by the worker"


def test_gpu_tasks_get_the_gpu_and_a_fresh_process_and_cpu_tasks_see_no_gpu(ray_address, tmp_path):
    gpu = {"cpu": 1.0, "gpu": 1.0}
    tasks = [make_task("report-gpu-1", resources=gpu), make_task("report-gpu-2", "report-gpu-1", resources=gpu),
             make_task("report-cpu")]
    report = _run(tasks, ScriptedRuntime(str(tmp_path)))
    seen = {key: json.loads(outcome.error) for key, outcome in report.outcomes.items()}
    assert seen["report-gpu-1"]["cuda"] == seen["report-gpu-2"]["cuda"] == "0"  # the GPU Ray assigned
    assert seen["report-gpu-1"]["pid"] != seen["report-gpu-2"]["pid"]  # no CUDA context carried over
    assert seen["report-cpu"]["cuda"] == ""  # cannot wander onto a GPU Ray gave to another task


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


# ---- the smoke suite ----------------------------------------------------------------

def _cli(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([*ROPBENCH, *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def local_smoke(tmp_path_factory) -> Path:
    """The run directory of the smoke suite under the local executor, default threads."""
    root = tmp_path_factory.mktemp("local")
    process = _cli("run", "--suite", "smoke", "--cache-dir", str(root / "cache"), "--out", str(root / "run"),
                   "--quiet")
    assert process.returncode == 0, process.stderr[-4000:]
    return root / "run"


def test_smoke_suite_through_ray_is_byte_identical_to_local(ray_address, local_smoke, tmp_path):
    """Neither run passes --threads: the default thread count is the same under every executor."""
    process = _cli("run", "--suite", "smoke", "--executor", "ray", "--address", ray_address,
                   "--cache-dir", str(tmp_path / "cache"), "--out", str(tmp_path / "run"), "--quiet")
    assert process.returncode == 0, process.stderr[-4000:]
    for name in ("results.csv", "per_image.csv"):
        assert (tmp_path / "run" / name).read_bytes() == (local_smoke / name).read_bytes(), name
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["executor"] == "ray"
    assert {t["status"] for t in manifest["tasks"]} == {"done"}


def test_ctrl_c_on_the_driver_stops_the_run_and_a_rerun_resumes_from_the_cache(ray_address, tmp_path):
    command = [*ROPBENCH, "run", "--suite", "smoke", "--arch", "seed-cnn", "--executor", "ray",
               "--address", ray_address, "--cache-dir", str(tmp_path / "cache"), "--out", str(tmp_path / "run"),
               "--threads", THREADS, "--quiet"]
    driver = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                              preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # see test_failures.py
    deadline = time.time() + 300
    while not _finished_stages(tmp_path / "cache") and driver.poll() is None and time.time() < deadline:
        time.sleep(0.1)  # until the data stage is in the cache
    driver.send_signal(signal.SIGINT)
    stderr = driver.communicate(timeout=120)[1]
    assert driver.returncode == 130, stderr[-3000:]
    assert "interrupted" in stderr
    stopped = json.loads((tmp_path / "run" / "manifest.json").read_text())
    finished = {t["key"] for t in stopped["tasks"] if t["status"] == "done"}
    assert finished and stopped["interrupted"]

    resumed = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    tasks = json.loads((tmp_path / "run" / "manifest.json").read_text())["tasks"]
    assert {t["key"] for t in tasks if t["status"] == "cached"} >= finished  # nothing finished is redone
    assert {t["status"] for t in tasks} <= {"cached", "done"}


def _ray_workers() -> dict[int, str]:
    """PID -> process title of this machine's Ray workers (``ray::<task name>`` while busy)."""
    titles = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                title = (entry / "cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
            except OSError:
                continue
            if title.startswith("ray::"):
                titles[int(entry.name)] = title.strip()
    return titles


def _finished_stages(cache: Path) -> dict[str, tuple[int, int]]:
    """Every finished task's result file, with (inode, mtime): a rewrite changes them."""
    return {str(p): (p.stat().st_ino, p.stat().st_mtime_ns) for p in (cache / "results").rglob("*.json")}


def _kill_first_training_worker(cache: Path, record: dict, stop: threading.Event) -> None:
    while not stop.is_set():
        for pid, title in _ray_workers().items():
            if title.startswith("ray::ropbench train"):
                record["finished_before"] = _finished_stages(cache)
                os.kill(pid, signal.SIGKILL)
                record["killed"] = title
                return
        time.sleep(0.02)


def test_a_killed_worker_mid_training_loses_nothing_and_recomputes_nothing(ray_address, local_smoke,
                                                                           tmp_path):
    registry = get_registry()
    suite = load_suite("smoke", registry)
    cache = tmp_path / "cache"
    record: dict = {}
    stop = threading.Event()
    killer = threading.Thread(target=_kill_first_training_worker, args=(cache, record, stop), daemon=True)
    killer.start()
    try:
        outcome = run_suite(suite, registry, cache_dir=cache, run_dir=tmp_path / "run", executor="ray",
                            verbose=False)
    finally:
        stop.set()
        killer.join()
    assert "killed" in record, "no training task was seen running"
    assert outcome.ok, [f.error for f in outcome.failures]
    assert {o.status for o in outcome.report.outcomes.values()} == {"done"}  # the killed one retried
    assert (tmp_path / "run" / "results.csv").read_bytes() == (local_smoke / "results.csv").read_bytes()
    after = _finished_stages(cache)
    assert record["finished_before"], "the data stage had finished before training started"
    for path, identity in record["finished_before"].items():
        assert after[path] == identity, f"{path} was recomputed"

    rerun = run_suite(suite, registry, cache_dir=cache, run_dir=tmp_path / "rerun", executor="ray",
                      verbose=False)
    manifest = json.loads((tmp_path / "rerun" / "manifest.json").read_text())
    assert rerun.ok and {t["status"] for t in manifest["tasks"]} == {"cached"}
    assert (tmp_path / "rerun" / "results.csv").read_bytes() == (local_smoke / "results.csv").read_bytes()
