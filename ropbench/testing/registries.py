"""Registries for tests: a plugin registered in-process, without ``pip install``.

::

    from ropbench.testing import make_plugin, registry_with

    plugin = make_plugin("my_plugin", ropbench_register_explainers=lambda: [my_spec])
    registry = registry_with(plugin)          # built-ins + entry points + my_plugin

A contract class finds its plugin through :func:`contract_registry`: set ``plugins`` on
the subclass to the modules (or dotted module names) to register, and it tests them
exactly as ``ropbench run`` would see them installed.
"""

from __future__ import annotations

import importlib
import types
from functools import lru_cache
from typing import Any, Callable, Iterable

from ropbench import hookimpl
from ropbench.registry import Registry, get_registry

__all__ = ["make_plugin", "registry_with", "contract_registry"]


def make_plugin(name: str, **hooks: Callable[..., Any]) -> types.ModuleType:
    """A module called ``name`` implementing each given hook (``ropbench_register_*=...``)."""
    module = types.ModuleType(name)
    for hook_name, function in hooks.items():
        setattr(module, hook_name, hookimpl(function))
    return module


def _module(plugin: types.ModuleType | str) -> types.ModuleType:
    return importlib.import_module(plugin) if isinstance(plugin, str) else plugin


@lru_cache(maxsize=32)
def _cached(modules: tuple[types.ModuleType, ...], builtins: bool) -> Registry:
    from ropbench.pluginmanager import BUILTIN_PLUGINS

    return Registry.load(builtins=BUILTIN_PLUGINS if builtins else (), extra=modules, strict=True)


def registry_with(*plugins: types.ModuleType | str, builtins: bool = True) -> Registry:
    """The built-ins (unless ``builtins=False``), the installed entry points and ``plugins``
    registered in-process; a plugin that fails to load raises."""
    return _cached(tuple(_module(p) for p in plugins), builtins)


def contract_registry(plugins: Iterable[types.ModuleType | str] = ()) -> Registry:
    """What a conformance contract resolves names through: the process registry, or one
    with the contract's in-process ``plugins`` added."""
    plugins = tuple(plugins)
    return registry_with(*plugins) if plugins else get_registry()
