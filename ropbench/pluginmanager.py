"""Loading plugins: built-ins from ``ropbench_plugins`` and third parties from entry points.

Built-ins get no back door: they are imported by dotted name and registered with the
same pluggy manager, the same way an entry point's module is.

Environment switches:

- ``ROPBENCH_DISABLE_PLUGINS``: comma-separated plugin names not to register (a
  built-in such as ``ropbench_plugins.explainers`` or an entry-point name).
- ``ROPBENCH_DISABLE_PLUGIN_AUTOLOAD``: when set (non-empty), no entry points are loaded.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import traceback
from dataclasses import dataclass, field
from types import ModuleType

import pluggy

from ropbench import hookspecs

__all__ = [
    "BUILTIN_PLUGINS",
    "PluginLoadError",
    "LoadedPlugin",
    "create_plugin_manager",
    "DISABLE_ENV",
    "NO_AUTOLOAD_ENV",
]

DISABLE_ENV = "ROPBENCH_DISABLE_PLUGINS"
NO_AUTOLOAD_ENV = "ROPBENCH_DISABLE_PLUGIN_AUTOLOAD"

BUILTIN_PLUGINS: tuple[str, ...] = (
    "ropbench_plugins.generators",
    "ropbench_plugins.architectures",
    "ropbench_plugins.explainers",
    "ropbench_plugins.metrics",
    "ropbench_plugins.executors",
    "ropbench_plugins.reporters",
)


class PluginLoadError(RuntimeError):
    """A plugin module could not be imported or registered."""

    def __init__(self, plugin: str, source: str, error_traceback: str) -> None:
        self.plugin = plugin
        self.source = source
        self.error_traceback = error_traceback
        super().__init__(
            f"plugin {plugin!r} ({source}) failed to load:\n{error_traceback.rstrip()}"
        )


@dataclass(frozen=True)
class LoadedPlugin:
    """Where a registered plugin came from: for ``ropbench plugins list``."""

    name: str
    source: str  # "builtin" or "entry point <dist> <version>"
    version: str
    module: ModuleType = field(repr=False, compare=False)


def _disabled_names() -> set[str]:
    raw = os.environ.get(DISABLE_ENV, "")
    return {name.strip() for name in raw.split(",") if name.strip()}


def _ropbench_version() -> str:
    from ropbench import __version__

    return __version__


def _import(name: str, source: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except Exception as error:  # any import-time failure is the plugin's, say whose
        raise PluginLoadError(name, source, traceback.format_exc()) from error


def create_plugin_manager(
    *, builtins: tuple[str, ...] = BUILTIN_PLUGINS, extra: tuple[ModuleType, ...] = ()
) -> tuple[pluggy.PluginManager, list[LoadedPlugin]]:
    """A pluggy manager with the hookspecs, the built-ins and the entry points registered.

    ``extra`` modules (already imported, e.g. from tests) are registered last, as
    ``source="extra"``.
    """
    manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    manager.add_hookspecs(hookspecs)
    disabled = _disabled_names()
    loaded: list[LoadedPlugin] = []

    for name in builtins:
        if name in disabled:
            continue
        module = _import(name, "builtin")
        manager.register(module, name=name)
        loaded.append(LoadedPlugin(name, "builtin", _ropbench_version(), module))

    if not os.environ.get(NO_AUTOLOAD_ENV):
        for entry_point in importlib.metadata.entry_points(group=hookspecs.PROJECT_NAME):
            if entry_point.name in disabled or manager.has_plugin(entry_point.name):
                continue
            dist = entry_point.dist
            dist_label = f"{dist.name} {dist.version}" if dist else "unknown distribution"
            source = f"entry point {entry_point.value} from {dist_label}"
            try:
                module = entry_point.load()
            except Exception as error:
                raise PluginLoadError(entry_point.name, source, traceback.format_exc()) from error
            manager.register(module, name=entry_point.name)
            loaded.append(
                LoadedPlugin(entry_point.name, source, dist.version if dist else "?", module)
            )

    for module in extra:
        name = module.__name__
        if name not in disabled:
            manager.register(module, name=name)
            loaded.append(LoadedPlugin(name, "extra", getattr(module, "__version__", "?"), module))

    manager.check_pending()
    return manager, loaded
