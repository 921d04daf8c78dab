"""The typed facade over pluggy: the rest of ropbench never touches ``pm.hook``.

Each family is flattened from every plugin's registration hook into a name -> spec
table. Duplicate names are rejected naming both plugins; unknown names are answered
with "did you mean ...? available: ...".
"""

from __future__ import annotations

import fnmatch
import re
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Generic, Iterable, Iterator, TypeVar, get_args

import pluggy

from ropbench.errors import DuplicateNameError, RopbenchError, UnknownNameError, did_you_mean
from ropbench.pluginmanager import BrokenPlugin, LoadedPlugin, create_plugin_manager
from ropbench.specs import (
    ArchitectureSpec,
    ExecutorSpec,
    ExplainerSpec,
    GeneratorSpec,
    MetricKind,
    MetricSpec,
    ReporterSpec,
)

__all__ = ["Registry", "SpecTable", "natural_key", "FAMILIES", "get_registry", "activated"]

S = TypeVar("S")

# family name -> (hook name, spec type)
FAMILIES: dict[str, tuple[str, type]] = {
    "generator": ("ropbench_register_generators", GeneratorSpec),
    "architecture": ("ropbench_register_architectures", ArchitectureSpec),
    "explainer": ("ropbench_register_explainers", ExplainerSpec),
    "metric": ("ropbench_register_metrics", MetricSpec),
    "executor": ("ropbench_register_executors", ExecutorSpec),
    "reporter": ("ropbench_register_reporters", ReporterSpec),
}


def natural_key(text: str) -> list[object]:
    """Sort key so that 'vit_small_patch8' < 'vit_small_patch16' (as timm does)."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", text)]


class RegistrationError(RopbenchError):
    """A plugin's registration hook raised or returned something that is not a spec."""


@dataclass
class SpecTable(Generic[S]):
    """The specs of one family, by name, with the plugin that provided each."""

    family: str
    specs: dict[str, S] = field(default_factory=dict)
    providers: dict[str, str] = field(default_factory=dict)
    replaced: dict[str, str] = field(default_factory=dict)  # name -> plugin whose spec was replaced

    def __contains__(self, name: object) -> bool:
        return name in self.specs

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self.specs, key=natural_key))

    def __len__(self) -> int:
        return len(self.specs)

    def get(self, name: str) -> S:
        """The spec called ``name``.

        ``prefix:rest`` resolves through a spec registered as ``prefix:*`` (e.g.
        ``timm:*``) to a copy named ``prefix:rest`` with ``model_name=rest``.
        """
        if name in self.specs:
            return self.specs[name]
        prefix, colon, rest = name.partition(":")
        wildcard = f"{prefix}:*"
        if colon and rest and wildcard in self.specs:
            spec = self.specs[wildcard]
            return replace(spec, name=name, params={**spec.params, "model_name": rest})  # type: ignore[type-var]
        raise UnknownNameError(self.family, name, self.specs)

    def select(self, patterns: Iterable[str]) -> list[S]:
        """Specs matching any glob (``vit_*``), in natural order, no repeats.

        A pattern without wildcards must name a registered spec exactly.
        """
        chosen: dict[str, S] = {}
        for pattern in patterns:
            if any(ch in pattern for ch in "*?["):
                # Wildcard-named specs ("timm:*") are resolvers, not members of a glob.
                matches = [
                    n for n in self if fnmatch.fnmatchcase(n, pattern) and not n.endswith(":*")
                ]
                if not matches:
                    raise UnknownNameError(self.family, pattern, self.specs)
                for name in matches:
                    chosen.setdefault(name, self.specs[name])
            else:
                chosen.setdefault(pattern, self.get(pattern))
        return list(chosen.values())


_CHOICES = {
    ("metric", "kind"): get_args(MetricKind),
    ("generator", "source"): ("synthetic", "dataset"),
}


def _check_spec(family: str, spec: object, provider: str) -> None:
    """Fields whose value must be one of a fixed set (a misspelt metric kind would otherwise
    drop the metric from every leaderboard without a word)."""
    for (kind_family, field_name), allowed in _CHOICES.items():
        value = getattr(spec, field_name, None)
        if family == kind_family and value not in allowed:
            raise RegistrationError(
                f"plugin {provider!r} registers {family} {getattr(spec, 'name', '?')!r} with {field_name} "
                f"{value!r}; expected one of {', '.join(allowed)} ({did_you_mean(str(value), allowed)})"
            )


class Registry:
    """All registered plugins and their specs; the only code that calls ``pm.hook``."""

    def __init__(self, manager: pluggy.PluginManager, plugins: list[LoadedPlugin],
                 broken: list[BrokenPlugin] | None = None) -> None:
        self._manager = manager
        self.plugins = plugins
        self.broken = list(broken or [])

    @classmethod
    def load(cls, **kwargs: object) -> "Registry":
        """Built-ins and entry points (see :func:`ropbench.pluginmanager.create_plugin_manager`)."""
        manager, plugins, broken = create_plugin_manager(**kwargs)  # type: ignore[arg-type]
        return cls(manager, plugins, broken)

    def _collect(self, family: str) -> SpecTable:
        """One family's specs, through ``pm.hook`` (so tryfirst, trylast and wrappers
        apply). A spec may replace a same-named one only when it says ``replaces=True``;
        any other repeated name is an error naming both plugins."""
        hook_name, spec_type = FAMILIES[family]
        table: SpecTable = SpecTable(family)
        replacing: dict[str, str] = {}
        for specs in getattr(self._manager.hook, hook_name)():
            for spec in specs or []:
                if not isinstance(spec, spec_type):
                    raise RegistrationError(
                        f"plugin {getattr(spec, 'plugin', '') or '?'!r} returned {type(spec).__name__} from "
                        f"{hook_name}; expected {spec_type.__name__}"
                    )
                provider = spec.plugin or "?"
                _check_spec(family, spec, provider)
                existing = table.specs.get(spec.name)
                if existing is None:
                    table.specs[spec.name] = spec
                    table.providers[spec.name] = provider
                    if spec.replaces:
                        replacing[spec.name] = provider
                elif spec.replaces != existing.replaces:
                    if spec.replaces:
                        table.specs[spec.name] = spec
                        table.providers[spec.name] = provider
                    table.replaced[spec.name] = existing.plugin if spec.replaces else provider
                    replacing.pop(spec.name, None)
                else:
                    raise DuplicateNameError(family, spec.name, table.providers[spec.name], provider)
        for name, provider in replacing.items():
            raise RegistrationError(
                f"plugin {provider!r} registers {family} {name!r} with replaces=True, but no other plugin "
                f"registers a {family} called {name!r}; drop replaces=True or fix the name"
            )
        return table

    @cached_property
    def generators(self) -> SpecTable[GeneratorSpec]:
        return self._collect("generator")

    @cached_property
    def architectures(self) -> SpecTable[ArchitectureSpec]:
        return self._collect("architecture")

    @cached_property
    def explainers(self) -> SpecTable[ExplainerSpec]:
        return self._collect("explainer")

    @cached_property
    def metrics(self) -> SpecTable[MetricSpec]:
        return self._collect("metric")

    @cached_property
    def executors(self) -> SpecTable[ExecutorSpec]:
        return self._collect("executor")

    @cached_property
    def reporters(self) -> SpecTable[ReporterSpec]:
        return self._collect("reporter")

    def table(self, family: str) -> SpecTable:
        """The table of a family by its singular name (``generator``, ``metric``, ...)."""
        if family not in FAMILIES:
            raise UnknownNameError("plugin family", family, FAMILIES)
        return getattr(self, family + "s")

    def hooks_of(self, plugin_name: str) -> list[str]:
        """The hooks a registered plugin implements."""
        plugin = self._manager.get_plugin(plugin_name)
        return sorted(caller.name for caller in (self._manager.get_hookcallers(plugin) or []))

    def notify_task_finished(self, stage: str, label: str, status: str, info: dict) -> None:
        """Fire ``ropbench_task_finished`` (observers' return values are ignored)."""
        self._manager.hook.ropbench_task_finished(stage=stage, label=label, status=status, info=info)


_DEFAULT: Registry | None = None


def get_registry() -> Registry:
    """The process-wide registry, loaded on first use; plugins that could not load are
    named once on stderr."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Registry.load()
        for plugin in _DEFAULT.broken:
            print(f"ropbench: warning: {plugin.warning()}", file=sys.stderr)
    return _DEFAULT


@contextmanager
def activated(registry: Registry) -> Iterator[Registry]:
    """Make ``registry`` the process-wide one inside the block (the runner does this for
    the registry it was given, so in-process stages see in-process plugins; executors in
    other processes load the installed plugins)."""
    global _DEFAULT
    previous = _DEFAULT
    _DEFAULT = registry
    try:
        yield registry
    finally:
        _DEFAULT = previous
