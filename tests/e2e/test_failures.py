"""Bad input and failing plugins: clear messages naming the culprit, results kept."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import torch

from ropbench.cli.main import main
from ropbench.registry import Registry, activated
from ropbench.specs import ExplainerSpec
from ropbench.testing import make_plugin
from tests.e2e.conftest import ROPBENCH, run_cli

SMOKE_LIKE = """
name = "failing"
seeds = [0]
image_size = 64
generators = ["rw-classic"]
architectures = ["seed-cnn"]
explainers = [{explainers}]
metrics = ["accuracy", "auroc", "percentile-precision@*", "percentile-recall@*"]

[data]
train = 64
val = 32
test = 32

[training]
epochs = 2
batch_size = 32
"""


def test_misspelled_plugin_name_is_named_with_suggestion(tmp_path):
    suite = tmp_path / "typo.toml"
    suite.write_text(SMOKE_LIKE.format(explainers='"gradcma"'))
    process = run_cli("run", "--suite", str(suite), "--cache-dir", str(tmp_path / "c"), "--out", str(tmp_path / "r"))
    assert process.returncode == 2
    assert "explainers[0]" in process.stderr and "did you mean 'gradcam'" in process.stderr
    assert str(suite) in process.stderr


def test_malformed_suite_file_is_named(tmp_path):
    suite = tmp_path / "broken.toml"
    suite.write_text("name = 'x'\nseeds = [0\n")
    process = run_cli("run", "--suite", str(suite))
    assert process.returncode == 2
    assert f"{suite}: (syntax): expected valid TOML" in process.stderr


def _raising(model, images, targets, context):
    raise RuntimeError("deliberate explainer failure")


def _nan_map(model, images, targets, context):
    return torch.full((images.shape[0], *images.shape[-2:]), float("nan"))


@pytest.fixture
def faulty_registry():
    module = make_plugin("faulty_plugin", ropbench_register_explainers=lambda: [
        ExplainerSpec(name="always-fails", explain=_raising, supports=lambda m: True),
        ExplainerSpec(name="nan-map", explain=_nan_map, supports=lambda m: True),
    ])
    with activated(Registry.load(extra=(module,))) as registry:
        yield registry


def test_a_raising_plugin_fails_its_cell_only_and_results_are_kept(tmp_path, smoke_run, faulty_registry, capsys):
    cache, _, _ = smoke_run  # data and training are cache hits
    suite = tmp_path / "failing.toml"
    suite.write_text(SMOKE_LIKE.format(explainers='"always-fails", "gradcam", "nan-map"'))
    code = main(["run", "--suite", str(suite), "--cache-dir", str(cache), "--out", str(tmp_path / "run"),
                 "--threads", "2", "--quiet"])
    assert code == 1
    stderr = capsys.readouterr().err
    assert "2 task(s) failed" in stderr
    assert "rw-classic/seed-cnn/seed=0/always-fails: RuntimeError: deliberate explainer failure" in stderr
    assert "explainer 'nan-map' returned non-finite" in stderr
    table = pd.read_csv(tmp_path / "run" / "results.csv")
    assert set(table["explainer"]) == {"-", "gradcam"}  # what finished is written
    assert "deliberate explainer failure" in (tmp_path / "run" / "errors.log").read_text()


def _wait_for_results(cache: Path, count: int, process: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if len(list((cache / "results").rglob("*.json"))) >= count:
            return
        if process.poll() is not None:
            raise AssertionError(f"run ended early: {process.stderr.read()[-3000:]}")
        time.sleep(0.2)
    raise AssertionError("no stage finished in time")


def _default_sigint() -> None:
    # A shell without job control starts background jobs with SIGINT ignored, and Python
    # keeps an ignored SIGINT ignored: the run would never see the test's Ctrl-C.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(command: list[str]) -> subprocess.Popen:
    return subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                            preexec_fn=_default_sigint)


def _finished(cache: Path) -> int:
    return len(list((cache / "results").rglob("*.json"))) if (cache / "results").exists() else 0


def test_interrupted_runs_resume_to_the_same_bytes_without_recomputing(smoke_run, tmp_path):
    """SIGINT, then SIGKILL, then a full run: finished stages are never redone and the
    final table equals an uninterrupted run's (so it is also a fresh-cache determinism test)."""
    _, reference, _ = smoke_run
    cache, run = tmp_path / "cache", tmp_path / "run"
    command = [*ROPBENCH, "run", "--suite", "smoke", "--cache-dir", str(cache), "--out", str(run),
               "--threads", "2", "--quiet"]

    interrupted = _start(command)
    _wait_for_results(cache, 1, interrupted)  # the data stage finished
    interrupted.send_signal(signal.SIGINT)
    stderr = interrupted.communicate(timeout=120)[1]
    assert interrupted.returncode == 130, stderr[-3000:]
    assert "interrupted" in stderr and (run / "manifest.json").is_file()

    killed = _start(command)
    _wait_for_results(cache, _finished(cache) + 1, killed)  # one more stage (a train stage)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    finished_before = _finished(cache)
    assert finished_before >= 2

    resumed = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    statuses = [t["status"] for t in json.loads((run / "manifest.json").read_text())["tasks"]]
    assert statuses.count("cached") == finished_before
    assert set(statuses) <= {"cached", "done"}
    assert (run / "results.csv").read_bytes() == (reference / "results.csv").read_bytes()
    assert (run / "per_image.csv").read_bytes() == (reference / "per_image.csv").read_bytes()


def test_ctrl_c_with_worker_processes_stops_cleanly_and_keeps_what_finished(tmp_path):
    """The default executor runs trainings in worker processes: Ctrl-C must stop them and
    write the partial run, not end in a traceback from the pool's shutdown."""
    cache, run = tmp_path / "cache", tmp_path / "run"
    interrupted = _start([*ROPBENCH, "run", "--suite", "smoke", "--cache-dir", str(cache), "--out", str(run),
                          "--threads", "1", "--option", "workers=2", "--quiet"])
    _wait_for_results(cache, 1, interrupted)  # the data stage finished; trainings are running
    interrupted.send_signal(signal.SIGINT)
    stderr = interrupted.communicate(timeout=120)[1]
    assert interrupted.returncode == 130, stderr[-3000:]
    assert "Traceback" not in stderr and "interrupted" in stderr
    assert (run / "manifest.json").is_file()
