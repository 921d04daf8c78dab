"""Loading plugins: built-ins from ``ropbench_plugins`` and third parties from entry points.

Built-ins get no back door: each feature-sized built-in module (``ropbench_plugins.
explainers.cam``, ``ropbench_plugins.metrics.vessel_ranking``, ...) is imported by dotted
name and registered with the same pluggy manager, the same way an entry point's module
is, so one method family can be disabled alone.

A plugin that cannot load (its import raises, or it implements a hook that does not
exist) is not registered: it is listed with its error (``ropbench plugins list``), and
every command warns once, naming it and the switch that silences it. A function named
like a hook but missing ``@hookimpl`` is reported the same way, since it would otherwise
do nothing without a word.

Environment switches:

- ``ROPBENCH_DISABLE_PLUGINS``: comma-separated plugin names not to register (a
  built-in module such as ``ropbench_plugins.explainers.gradients`` or an entry-point
  name).
- ``ROPBENCH_DISABLE_PLUGIN_AUTOLOAD``: when set (non-empty), no entry points are loaded.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import importlib.metadata
import os
import traceback
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Callable

import pluggy

from ropbench import hookspecs
from ropbench.errors import RopbenchError, did_you_mean

__all__ = [
    "BUILTIN_PLUGINS",
    "PluginLoadError",
    "LoadedPlugin",
    "BrokenPlugin",
    "create_plugin_manager",
    "DISABLE_ENV",
    "NO_AUTOLOAD_ENV",
]

DISABLE_ENV = "ROPBENCH_DISABLE_PLUGINS"
NO_AUTOLOAD_ENV = "ROPBENCH_DISABLE_PLUGIN_AUTOLOAD"
HOOK_PREFIX = "ropbench_"
REGISTRATION_PREFIX = "ropbench_register_"

BUILTIN_PLUGINS: tuple[str, ...] = (
    "ropbench_plugins.generators",
    "ropbench_plugins.generators.seed_format",
    "ropbench_plugins.generators.folder_format",
    "ropbench_plugins.architectures",
    "ropbench_plugins.architectures.shortcut_probe",
    "ropbench_plugins.explainers.cam",
    "ropbench_plugins.explainers.scorecam",
    "ropbench_plugins.explainers.gradients",
    "ropbench_plugins.explainers.rollout",
    "ropbench_plugins.explainers.controls",
    "ropbench_plugins.metrics.classification",
    "ropbench_plugins.metrics.thresholded",
    "ropbench_plugins.metrics.threshold_free",
    "ropbench_plugins.metrics.relevance",
    "ropbench_plugins.metrics.pointing",
    "ropbench_plugins.metrics.study_protocol",
    "ropbench_plugins.metrics.within_vessels",
    "ropbench_plugins.metrics.segments",
    "ropbench_plugins.metrics.prior_skill",
    "ropbench_plugins.metrics.tortuosity_contrast",
    "ropbench_plugins.metrics.interventions",
    "ropbench_plugins.metrics.faithfulness",
    "ropbench_plugins.metrics.sanity",
    "ropbench_plugins.executors.local",
    "ropbench_plugins.executors.ray_executor",
    "ropbench_plugins.reporters.leaderboards",
    "ropbench_plugins.reporters.html",
)


class PluginLoadError(RopbenchError):
    """A plugin module could not be imported or registered."""

    def __init__(self, plugin: str, source: str, reason: str) -> None:
        self.plugin = plugin
        self.source = source
        self.reason = reason
        super().__init__(f"plugin {plugin!r} ({source}) failed to load: {reason}")


@dataclass(frozen=True)
class LoadedPlugin:
    """Where a registered plugin came from: for ``ropbench plugins list``."""

    name: str
    source: str  # "builtin", "extra" or "entry point <value> from <dist> <version>"
    version: str
    module: ModuleType = field(repr=False, compare=False)


@dataclass(frozen=True)
class BrokenPlugin:
    """A plugin that was found but not registered, and why (one line) with details."""

    name: str
    source: str
    reason: str
    details: str = ""

    def warning(self) -> str:
        return (f"plugin {self.name!r} ({self.source}) not loaded: {self.reason}; "
                f"disable it with {DISABLE_ENV}={self.name}")


def _disabled_names() -> set[str]:
    raw = os.environ.get(DISABLE_ENV, "")
    return {name.strip() for name in raw.split(",") if name.strip()}


def _ropbench_version() -> str:
    from ropbench import __version__

    return __version__


def _hook_problems(module: ModuleType, known: set[str]) -> list[str]:
    """Misspelt hook names and hook functions without ``@hookimpl``, one line each."""
    problems = []
    for attribute in sorted(dir(module)):
        if not attribute.startswith(HOOK_PREFIX):
            continue
        value = getattr(module, attribute)
        if not callable(value):
            continue
        marked = hasattr(value, f"{hookspecs.PROJECT_NAME}_impl")
        if marked and attribute not in known:
            problems.append(f"unknown hook {attribute!r} ({did_you_mean(attribute, known)})")
        elif not marked and attribute in known:
            problems.append(f"{attribute} lacks the @hookimpl decorator (from ropbench import hookimpl)")
    return problems


def _tag_specs(function: Callable[..., Any], plugin: str) -> Callable[..., Any]:
    """A registration hook that records its plugin on each spec it returns, and names the
    plugin when it raises."""

    @functools.wraps(function)
    def registration(*args: Any, **kwargs: Any) -> Any:
        try:
            specs = function(*args, **kwargs)
        except Exception as error:
            raise RopbenchError(f"plugin {plugin!r} raised in {function.__name__}: "
                                f"{type(error).__name__}: {error}\n{traceback.format_exc()}") from error
        return [dataclasses.replace(spec, plugin=plugin)
                if dataclasses.is_dataclass(spec) and hasattr(spec, "plugin") and not spec.plugin else spec
                for spec in specs or []]

    return registration


def _register(manager: pluggy.PluginManager, module: ModuleType, name: str) -> None:
    manager.register(module, name=name)
    for caller in manager.get_hookcallers(module) or []:
        if not caller.name.startswith(REGISTRATION_PREFIX):
            continue
        for impl in caller.get_hookimpls():
            if impl.plugin is module and not (impl.hookwrapper or impl.wrapper):
                impl.function = _tag_specs(impl.function, name)


def _import(name: str) -> ModuleType:
    return importlib.import_module(name)


def create_plugin_manager(
    *, builtins: tuple[str, ...] = BUILTIN_PLUGINS, extra: tuple[ModuleType, ...] = (),
    strict: bool = False,
) -> tuple[pluggy.PluginManager, list[LoadedPlugin], list[BrokenPlugin]]:
    """A pluggy manager with the hookspecs, the built-ins, the entry points and ``extra``
    modules (already imported, e.g. from tests; registered last, as ``source="extra"``).

    Plugins that fail to load are returned as :class:`BrokenPlugin` instead of being
    registered; with ``strict`` the first one raises :class:`PluginLoadError` instead.
    """
    manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    manager.add_hookspecs(hookspecs)
    known = {name for name in dir(hookspecs) if name.startswith(HOOK_PREFIX)}
    disabled = _disabled_names()
    loaded: list[LoadedPlugin] = []
    broken: list[BrokenPlugin] = []

    def add(name: str, source: str, version: Callable[[ModuleType], str], load: Callable[[], ModuleType]) -> None:
        if name in disabled or manager.has_plugin(name):
            return
        try:
            module = load()
        except Exception as error:  # any import-time failure is the plugin's: say whose
            problem = BrokenPlugin(name, source, f"import failed: {type(error).__name__}: {error}",
                                   traceback.format_exc())
        else:
            problems = _hook_problems(module, known)
            if not problems:
                _register(manager, module, name)
                loaded.append(LoadedPlugin(name, source, version(module), module))
                return
            problem = BrokenPlugin(name, source, "; ".join(problems))
        if strict:
            raise PluginLoadError(problem.name, problem.source, f"{problem.reason}\n{problem.details}".rstrip())
        broken.append(problem)

    for name in builtins:
        add(name, "builtin", lambda _: _ropbench_version(), functools.partial(_import, name))

    if not os.environ.get(NO_AUTOLOAD_ENV):
        for entry_point in importlib.metadata.entry_points(group=hookspecs.PROJECT_NAME):
            dist = entry_point.dist
            dist_label = f"{dist.name} {dist.version}" if dist else "unknown distribution"
            add(entry_point.name, f"entry point {entry_point.value} from {dist_label}",
                lambda _, d=dist: d.version if d else "?", entry_point.load)

    for module in extra:
        add(module.__name__, "extra", lambda m: getattr(m, "__version__", "?"), lambda m=module: m)

    manager.check_pending()
    return manager, loaded, broken
