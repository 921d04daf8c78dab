"""The typed facade over pluggy: the rest of ropbench never touches ``pm.hook``.

Each family is flattened from every plugin's registration hook into a name -> spec
table. Duplicate names are rejected naming both plugins; unknown names are answered
with "did you mean ...? available: ...".
"""

from __future__ import annotations

import fnmatch
import re
import traceback
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Generic, Iterable, Iterator, TypeVar

import pluggy

from ropbench.errors import DuplicateNameError, RopbenchError, UnknownNameError
from ropbench.pluginmanager import LoadedPlugin, create_plugin_manager
from ropbench.specs import (
    ArchitectureSpec,
    ExecutorSpec,
    ExplainerSpec,
    GeneratorSpec,
    MetricSpec,
    ReporterSpec,
)

__all__ = ["Registry", "SpecTable", "natural_key", "FAMILIES", "get_registry"]

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


class Registry:
    """All registered plugins and their specs."""

    def __init__(self, manager: pluggy.PluginManager, plugins: list[LoadedPlugin]) -> None:
        self.manager = manager
        self.plugins = plugins

    @classmethod
    def load(cls, **kwargs: object) -> "Registry":
        manager, plugins = create_plugin_manager(**kwargs)  # type: ignore[arg-type]
        return cls(manager, plugins)

    def _collect(self, family: str) -> SpecTable:
        hook_name, spec_type = FAMILIES[family]
        table: SpecTable = SpecTable(family)
        for impl in getattr(self.manager.hook, hook_name).get_hookimpls():
            try:
                specs = impl.function() or []
            except Exception as error:
                raise RegistrationError(
                    f"plugin {impl.plugin_name!r} raised in {hook_name}:\n{traceback.format_exc()}"
                ) from error
            for spec in specs:
                if not isinstance(spec, spec_type):
                    raise RegistrationError(
                        f"plugin {impl.plugin_name!r} returned {type(spec).__name__} from "
                        f"{hook_name}; expected {spec_type.__name__}"
                    )
                if spec.name in table.specs:
                    raise DuplicateNameError(
                        family, spec.name, table.providers[spec.name], impl.plugin_name
                    )
                table.specs[spec.name] = spec
                table.providers[spec.name] = impl.plugin_name
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
        plugin = self.manager.get_plugin(plugin_name)
        return sorted(
            caller.name for caller in (self.manager.get_hookcallers(plugin) or [])
        )

    def notify_task_finished(self, stage: str, label: str, status: str, info: dict) -> None:
        self.manager.hook.ropbench_task_finished(stage=stage, label=label, status=status, info=info)


_DEFAULT: Registry | None = None


def get_registry() -> Registry:
    """The process-wide registry, loaded on first use."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Registry.load()
    return _DEFAULT
