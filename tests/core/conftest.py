"""Helpers for core tests: plugin modules built on the fly."""

from __future__ import annotations

import types

import pytest

from ropbench.registry import Registry
from ropbench.specs import ExplainerSpec, GeneratorSpec
from ropbench.testing.registries import make_plugin

__all__ = ["make_plugin", "generator_spec", "explainer_spec", "registry_of"]


def generator_spec(name: str) -> GeneratorSpec:
    return GeneratorSpec(name=name, generate=lambda n, size, seed, start=0: None)


def explainer_spec(name: str) -> ExplainerSpec:
    return ExplainerSpec(name=name, explain=lambda *a, **k: None, supports=lambda model: True)


@pytest.fixture
def registry_of():
    def build(*modules: types.ModuleType) -> Registry:
        return Registry.load(builtins=(), extra=modules)

    return build
