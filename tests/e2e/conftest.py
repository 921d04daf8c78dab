"""End-to-end fixtures: the smoke suite run once per session through the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROPBENCH = [sys.executable, "-m", "ropbench.cli.main"]


def run_cli(*args: str, env: dict | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    """``ropbench ARGS`` in a fresh process, as a user would run it."""
    environment = {**os.environ, **(env or {})}
    return subprocess.run([*ROPBENCH, *args], capture_output=True, text=True, timeout=timeout, env=environment)


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory) -> tuple[Path, Path, subprocess.CompletedProcess]:
    """(cache dir, run dir, completed process) of one smoke run shared by the e2e tests."""
    root = tmp_path_factory.mktemp("smoke")
    cache, run = root / "cache", root / "run"
    process = run_cli("run", "--suite", "smoke", "--cache-dir", str(cache), "--out", str(run),
                      "--threads", "2", "--quiet")
    assert process.returncode == 0, process.stderr[-4000:]
    return cache, run, process


def seed_format_suite(path: str, *, image_size: int, metrics: list[str], counts: tuple[int, int, int],
                      name: str = "sample") -> str:
    """A suite on a seed-format dataset at ``path``: seed-cnn trained one epoch, explained by
    the vessel-map control, scored with ``metrics``; ``counts`` = (train, val, test)."""
    train, val, test = counts
    metric_list = ", ".join(f'"{metric}"' for metric in metrics)
    return f"""
name = "{name}"
seeds = [0]
image_size = {image_size}
generators = [{{ name = "seed-format", params = {{ path = "{path}" }} }}]
architectures = ["seed-cnn"]
explainers = ["vessel-map"]
metrics = [{metric_list}]

[data]
train = {train}
val = {val}
test = {test}

[training]
epochs = 1
batch_size = 4
"""
