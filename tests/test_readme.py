"""The README shows only what the committed quick board says (its excerpt is cut from it)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _script():
    spec = importlib.util.spec_from_file_location("readme_excerpt", ROOT / "scripts" / "readme_excerpt.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_readme_excerpt_is_the_committed_quick_board():
    script = _script()
    board = (ROOT / "leaderboards" / "quick.md").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert script.current_block(readme) == script.excerpt(board), (
        "README's quick excerpt differs from leaderboards/quick.md: run python scripts/readme_excerpt.py --write")


def test_the_excerpt_holds_the_headline_tables():
    board = (ROOT / "leaderboards" / "quick.md").read_text(encoding="utf-8")
    text = _script().excerpt(board)
    assert "vessel-auroc" in text and "beats vessel prior" in text and "accuracy" in text


def test_the_readme_names_the_two_commands_ci_runs():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    command = "python3 -m pip install tox && python3 -m tox"
    assert command in readme and command in ci
    assert "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/ropbench run" in readme


def test_the_readmes_suite_example_loads(tmp_path):
    import re

    from ropbench.registry import get_registry
    from ropbench.suite import load_suite

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    example = re.search(r'```toml\n(name = "mine".*?)```', readme, re.S)
    assert example, "README has no suite example"
    path = tmp_path / "mine.toml"
    path.write_text(example.group(1))
    suite = load_suite(str(path), get_registry())
    assert {"random", "vessel-map", "vessel-map-pooled", "oracle"} <= {e.name for e in suite.explainers}
