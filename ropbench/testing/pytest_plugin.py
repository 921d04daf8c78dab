"""pytest plugin loaded through the ``pytest11`` entry point of ropbench."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def ropbench_registry():
    """The registry with every installed plugin, as ``ropbench run`` would see it."""
    from ropbench.registry import get_registry

    return get_registry()
