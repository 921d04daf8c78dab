"""pytest plugin loaded through the ``pytest11`` entry point of ropbench.

Fixtures for plugin authors, and one line in the session header naming every loaded
ropbench plugin and where it came from. Nothing here imports torch or loads plugins
until a test asks for it, so an unrelated pytest session pays nothing for it.
"""

from __future__ import annotations

from typing import Any

import pytest

__all__ = ["ropbench_registry", "ropbench_registry_with", "ropbench_loaded_plugins", "pytest_report_header"]

# The contracts' asserts show the values that failed (``assert torch.float64 ==
# torch.float32``), not just a source line; this must run before they are imported.
pytest.register_assert_rewrite(
    "ropbench.testing.generator_contract",
    "ropbench.testing.architecture_contract",
    "ropbench.testing.explainer_contract",
    "ropbench.testing.metric_contract",
)


@pytest.fixture(scope="session")
def ropbench_registry():
    """The registry with every installed plugin, as ``ropbench run`` would see it."""
    from ropbench.registry import get_registry

    return get_registry()


@pytest.fixture(scope="session")
def ropbench_registry_with():
    """``registry_with(*plugin_modules)``: a registry with your plugin registered
    in-process, no ``pip install`` needed (see :mod:`ropbench.testing.registries`)."""
    from ropbench.testing.registries import registry_with

    return registry_with


@pytest.fixture(scope="session")
def ropbench_loaded_plugins(ropbench_registry) -> dict[str, str]:
    """Loaded plugin name -> source (``builtin``, or ``entry point ... from DIST VERSION``)."""
    return {plugin.name: plugin.source for plugin in ropbench_registry.plugins}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("ropbench_report_plugins", type="bool", default=False,
                  help="list the loaded ropbench plugins in the pytest session header")
    parser.addoption("--ropbench-plugins", action="store_true", default=False,
                     help="list the loaded ropbench plugins in the session header")


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    """``ropbench plugins: name (source), ...`` when asked for (loading plugins imports torch)."""
    if not (config.getoption("--ropbench-plugins") or config.getini("ropbench_report_plugins")):
        return None
    from ropbench.registry import get_registry

    third_party: list[Any] = [p for p in get_registry().plugins if p.source != "builtin"]
    builtins = sum(1 for p in get_registry().plugins if p.source == "builtin")
    listed = ", ".join(f"{p.name} ({p.source})" for p in third_party) or "none"
    return [f"ropbench plugins: {builtins} built-in; third-party: {listed}"]
