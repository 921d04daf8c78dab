"""ropbench.testing: one exported base class per contract module, and the pytest plugin."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import ropbench.testing as kit

KIT_DIR = Path(kit.__file__).parent


def test_every_contract_module_is_exported():
    modules = {f"ropbench.testing.{p.stem}" for p in KIT_DIR.glob("*_contract.py")}
    assert modules <= set(kit.CONTRACTS.values()), "export the new contract in ropbench/testing/__init__.py"
    assert set(kit.CONTRACTS) == set(kit.__all__) - {"CONTRACTS"}


@pytest.mark.parametrize("name", sorted(kit.CONTRACTS))
def test_exported_contracts_resolve_lazily(name):
    module = kit.CONTRACTS[name]
    if not (KIT_DIR / f"{module.rsplit('.', 1)[1]}.py").is_file():
        pytest.skip(f"{module} is not written yet")
    contract = getattr(kit, name)
    assert contract.__name__ == name and contract.__module__ == module
    assert not name.startswith("Test"), "a base class named Test* would be collected itself"


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        kit.Nope  # noqa: B018


def test_importing_the_kit_does_not_import_torch():
    # The pytest11 plugin imports ropbench.testing in every pytest session of the machine.
    code = "import sys, ropbench.testing, ropbench.testing.pytest_plugin; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "False", result.stderr


def test_fixtures_and_header_in_a_real_session(tmp_path):
    """A plugin author's pytest session: the pytest11 plugin provides fixtures and the header."""
    (tmp_path / "test_uses_kit.py").write_text(
        "def test_fixtures(ropbench_registry, ropbench_loaded_plugins):\n"
        "    assert 'html' in ropbench_registry.reporters\n"
        "    assert ropbench_loaded_plugins == {'ropbench_plugins.reporters': 'builtin'}\n")
    others = ",".join(f"ropbench_plugins.{family}" for family in
                      ("generators", "architectures", "explainers", "metrics", "executors"))
    env = {**os.environ, "ROPBENCH_DISABLE_PLUGIN_AUTOLOAD": "1", "ROPBENCH_DISABLE_PLUGINS": others}
    result = subprocess.run([sys.executable, "-m", "pytest", "--ropbench-plugins", "-p", "no:cacheprovider",
                             "-p", "no:randomly", "--rootdir", str(tmp_path), str(tmp_path)],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "ropbench plugins: 1 built-in; third-party: none" in result.stdout
    assert "1 passed" in result.stdout
