"""docs/first-plugin.md stays short and its code stays working."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import torch

from ropbench.pluginmanager import NO_AUTOLOAD_ENV
from ropbench.registry import Registry
from ropbench.specs import ExplainContext

DOC = Path(__file__).resolve().parents[2] / "docs" / "first-plugin.md"
# The files the walkthrough's code blocks become, in order.
FILES = ("my_ropbench_plugin.py", "pyproject.toml", "tests/test_brightness.py", "brightness.toml", "run.sh")


def write_walkthrough(folder: Path) -> dict[str, Path]:
    blocks = re.findall(r"```\w+\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == len(FILES), "the walkthrough's code blocks changed: update FILES"
    paths = {}
    for name, body in zip(FILES, blocks):
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body, encoding="utf-8")
        paths[name] = path
    return paths


def test_under_forty_lines_of_code():
    blocks = re.findall(r"```\w+\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert sum(len(b.splitlines()) for b in blocks) < 40


def test_module_registers_and_explains_to_contract(tmp_path, monkeypatch):
    paths = write_walkthrough(tmp_path)
    spec = importlib.util.spec_from_file_location("my_ropbench_plugin", paths["my_ropbench_plugin.py"])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setenv(NO_AUTOLOAD_ENV, "1")
    explainer = Registry.load(builtins=(), extra=(module,)).explainers.get("brightness")
    images = torch.randn(3, 3, 16, 16)
    maps = explainer.explain(None, images, torch.ones(3, dtype=torch.long), ExplainContext(seed=0),
                             **explainer.params)
    assert maps.shape == (3, 16, 16) and maps.dtype == torch.float32
    torch.testing.assert_close(maps, (images.mean(dim=1) + 1) / 2)


def test_packaging_test_and_suite_agree_with_the_module(tmp_path):
    paths = write_walkthrough(tmp_path)
    project = tomllib.loads(paths["pyproject.toml"].read_text())
    assert project["project"]["entry-points"]["ropbench"] == {"brightness": "my_ropbench_plugin"}
    assert 'explainer_name = "brightness"' in paths["tests/test_brightness.py"].read_text()
    suite = tomllib.loads(paths["brightness.toml"].read_text())
    assert "brightness" in suite["explainers"]
    assert "pytest tests/" in paths["run.sh"].read_text()


@pytest.mark.slow
def test_walkthrough_end_to_end(tmp_path):
    """pip install, plugins list, the contract and a run, as a reader would (a minute or two)."""
    write_walkthrough(tmp_path)
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site),
                    str(tmp_path)], check=True, timeout=300)
    env = {"PYTHONPATH": str(site), "ROPBENCH_CACHE_DIR": str(tmp_path / "cache"), "PATH": str(Path(sys.executable).parent)}
    ropbench = [sys.executable, "-m", "ropbench.cli.main"]
    listed = subprocess.run([*ropbench, "plugins", "list"], env=env, capture_output=True, text=True, timeout=300)
    assert "my-ropbench-plugin 0.1.0" in listed.stdout.replace("\n", " ") or "brightness" in listed.stdout
    tested = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert tested.returncode == 0, tested.stdout[-3000:]
    run = subprocess.run([*ropbench, "run", "--suite", "brightness.toml", "--out", "run", "--quiet"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "| brightness" in (tmp_path / "run" / "leaderboard.md").read_text()
