"""Helpers for core tests: plugin modules built on the fly."""

from __future__ import annotations

import types

import pytest

from ropbench import hookimpl
from ropbench.registry import Registry
from ropbench.specs import ExplainerSpec, GeneratorSpec


def make_plugin(name: str, **hooks) -> types.ModuleType:
    """A module named ``name`` whose attributes are the given hook implementations."""
    module = types.ModuleType(name)
    for hook_name, function in hooks.items():
        setattr(module, hook_name, hookimpl(function))
    return module


def generator_spec(name: str) -> GeneratorSpec:
    return GeneratorSpec(name=name, generate=lambda n, size, seed, start=0: None)


def explainer_spec(name: str) -> ExplainerSpec:
    return ExplainerSpec(name=name, explain=lambda *a, **k: None, supports=lambda model: True)


@pytest.fixture
def registry_of():
    def build(*modules: types.ModuleType) -> Registry:
        return Registry.load(builtins=(), extra=modules)

    return build
