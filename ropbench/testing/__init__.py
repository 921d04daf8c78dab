"""The plugin author's kit: conformance base classes per family and pytest fixtures.

A third-party plugin proves it honours the contracts by subclassing, e.g.::

    from ropbench.testing import ExplainerContract

    class TestMyMap(ExplainerContract):
        explainer_name = "my-map"

=====================  ==============================================  =====================
family                 base class                                      set on the subclass
=====================  ==============================================  =====================
generator              :class:`~.generator_contract.GeneratorContract`  ``generator_name``
architecture           :class:`~.architecture_contract.ArchitectureContract`  ``architecture_name``
explainer              :class:`~.explainer_contract.ExplainerContract`  ``explainer_name``
metric                 :class:`~.metric_contract.MetricContract`        ``metric_name``
=====================  ==============================================  =====================

The pytest plugin (``ropbench.testing.pytest_plugin``, auto-loaded through the
``pytest11`` entry point) provides the ``ropbench_registry`` and
``ropbench_loaded_plugins`` fixtures and prints the loaded plugins in the session
header, so an author sees at once whether their entry point was picked up.

The base classes are imported on first use: this package is imported whenever pytest
starts (through the pytest plugin), and the contracts need torch.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["GeneratorContract", "ArchitectureContract", "ExplainerContract", "MetricContract", "CONTRACTS",
           "make_plugin", "registry_with"]

# Exported name -> module that defines it.
CONTRACTS: dict[str, str] = {
    "GeneratorContract": "ropbench.testing.generator_contract",
    "ArchitectureContract": "ropbench.testing.architecture_contract",
    "ExplainerContract": "ropbench.testing.explainer_contract",
    "MetricContract": "ropbench.testing.metric_contract",
}
_HELPERS: dict[str, str] = {
    "make_plugin": "ropbench.testing.registries",
    "registry_with": "ropbench.testing.registries",
}


def __getattr__(name: str) -> Any:
    home = CONTRACTS.get(name) or _HELPERS.get(name)
    if home is None:
        raise AttributeError(f"module 'ropbench.testing' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # import once
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
