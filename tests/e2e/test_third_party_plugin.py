"""A third-party plugin package installed through its entry point is listed and runs."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.e2e.conftest import run_cli

PACKAGE = Path(__file__).resolve().parent.parent / "fixtures" / "hello_plugin"


@pytest.fixture(scope="module")
def hello_site(tmp_path_factory) -> Path:
    """The fixture package pip-installed into its own folder (put on PYTHONPATH)."""
    site = tmp_path_factory.mktemp("hello-site")
    isolation = [] if importlib.util.find_spec("setuptools") is None else ["--no-build-isolation"]
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", *isolation,
                    "--target", str(site), str(PACKAGE)], check=True, capture_output=True, timeout=300)
    return site


def test_entry_point_plugin_is_listed_with_version_source_and_hooks(hello_site):
    process = run_cli("plugins", "list", "--all", "--json", env={"PYTHONPATH": str(hello_site)})
    assert process.returncode == 0, process.stderr
    plugins = {p["name"]: p for p in json.loads(process.stdout)}
    hello = plugins["hello"]
    assert hello["version"] == "0.0.1"
    assert "ropbench-hello 0.0.1" in hello["source"]
    assert hello["hooks"] == ["ropbench_register_explainers"]
    assert hello["provides"] == {"explainers": ["centre-bias"]}
    assert "ropbench_plugins.generators" in plugins  # built-ins listed the same way


def test_entry_point_plugin_can_be_disabled(hello_site):
    process = run_cli("list", "explainers", "centre*",
                      env={"PYTHONPATH": str(hello_site), "ROPBENCH_DISABLE_PLUGINS": "hello"})
    assert process.returncode == 1 and "no explainers match" in process.stdout


def test_entry_point_plugin_runs_in_a_suite(hello_site, smoke_run, tmp_path):
    cache, _, _ = smoke_run
    suite = tmp_path / "hello.toml"
    smoke = (Path(__file__).resolve().parents[2] / "ropbench" / "suites" / "smoke.toml").read_text()
    hello = re.sub(r"(?m)^explainers = \[.*\]$", 'explainers = ["centre-bias"]', smoke)
    assert hello != smoke, "the smoke suite's explainers line moved; update this test"
    suite.write_text(hello)
    process = run_cli("run", "--suite", str(suite), "--cache-dir", str(cache), "--out", str(tmp_path / "run"),
                      "--threads", "2", "--quiet", env={"PYTHONPATH": str(hello_site)})
    assert process.returncode == 0, process.stderr[-3000:]
    table = pd.read_csv(tmp_path / "run" / "results.csv")
    rows = table[table["explainer"] == "centre-bias"]
    assert set(rows["architecture"]) == {"seed-cnn", "vit_tiny_patch16"}
    assert rows["value"].notna().all()
