"""ropbench.testing: one exported base class per contract module, and the pytest plugin."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import ropbench.testing as kit
from ropbench.pluginmanager import BUILTIN_PLUGINS

KIT_DIR = Path(kit.__file__).parent


def test_every_contract_module_is_exported():
    modules = {f"ropbench.testing.{p.stem}" for p in KIT_DIR.glob("*_contract.py")}
    assert modules <= set(kit.CONTRACTS.values()), "export the new contract in ropbench/testing/__init__.py"
    assert set(kit.CONTRACTS) == set(kit.__all__) - {"CONTRACTS", "make_plugin", "registry_with"}


@pytest.mark.parametrize("name", sorted(kit.CONTRACTS))
def test_exported_contracts_resolve_lazily(name):
    module = kit.CONTRACTS[name]
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
        "    assert ropbench_loaded_plugins == {'ropbench_plugins.reporters.html': 'builtin'}\n")
    others = ",".join(name for name in BUILTIN_PLUGINS if name != "ropbench_plugins.reporters.html")
    env = {**os.environ, "ROPBENCH_DISABLE_PLUGIN_AUTOLOAD": "1", "ROPBENCH_DISABLE_PLUGINS": others}
    result = subprocess.run([sys.executable, "-m", "pytest", "--ropbench-plugins", "-p", "no:cacheprovider",
                             "-p", "no:randomly", "--rootdir", str(tmp_path), str(tmp_path)],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "ropbench plugins: 1 built-in; third-party: none" in result.stdout
    assert "1 passed" in result.stdout


def test_an_author_registers_a_plugin_in_process_and_sees_values_in_failures(tmp_path):
    """No pip install: the plugin module is registered by the ``ropbench_registry_with``
    fixture; a failing contract assertion shows the values, not just the source line."""
    (tmp_path / "my_generators.py").write_text(
        "from ropbench import hookimpl\n"
        "from ropbench.specs import GeneratorSpec\n\n"
        "@hookimpl\n"
        "def ropbench_register_generators():\n"
        "    return [GeneratorSpec(name='my-gen', generate=float_images)]\n\n"
        "def float_images(n, size, seed, start=0):  # a mistake: images must be uint8\n"
        "    from ropbench_plugins.generators import VARIANTS\n"
        "    from ropbench_plugins.generators.pipeline import generate_variant\n"
        "    import dataclasses\n"
        "    batch = generate_variant(VARIANTS[0], n, size, seed, start)\n"
        "    return dataclasses.replace(batch, images=batch.images.float())\n")
    (tmp_path / "test_mine.py").write_text(
        "import my_generators\n"
        "from ropbench.testing import GeneratorContract\n\n"
        "def test_registered(ropbench_registry_with):\n"
        "    registry = ropbench_registry_with(my_generators)\n"
        "    assert registry.generators.providers['my-gen'] == 'my_generators'\n"
        "    assert 'rw-classic' in registry.generators\n\n"
        "class TestMine(GeneratorContract):\n"
        "    generator_name = 'my-gen'\n"
        "    plugins = (my_generators,)\n")
    env = {**os.environ, "ROPBENCH_DISABLE_PLUGIN_AUTOLOAD": "1", "PYTHONPATH": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--rootdir", str(tmp_path),
                             "-k", "registered or shapes_and_dtypes", str(tmp_path)],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert "1 failed, 1 passed" in result.stdout, result.stdout[-3000:]
    assert "torch.float32 == torch.uint8" in result.stdout, result.stdout[-3000:]  # the values, not a bare line
