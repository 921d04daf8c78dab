"""Every registered generator honours the generator contract (the registry is the test matrix)."""

from __future__ import annotations

import pytest

from ropbench.registry import get_registry
from ropbench.testing.generator_contract import GeneratorCase, GeneratorContract

REQUIRED = {"rw-classic", "rw-fundus", "rw-graded", "seed-format", "folder"}


def test_every_required_generator_is_registered() -> None:
    generators = get_registry().generators
    assert REQUIRED <= set(generators)
    for name in REQUIRED:
        expected = "dataset" if name in ("seed-format", "folder") else "synthetic"
        assert generators.get(name).source == expected


class TestEveryGenerator(GeneratorContract):
    """The kit, run once per registered generator; loaders read sample or temporary data."""

    @pytest.fixture(scope="class", params=sorted(get_registry().generators))
    @classmethod
    def generator_case(cls, request: pytest.FixtureRequest) -> GeneratorCase:
        name = request.param
        if get_registry().generators.get(name).source == "synthetic":
            return GeneratorCase(name)
        if name == "seed-format":
            return GeneratorCase(name, {"path": str(request.getfixturevalue("seed_sample"))})
        if name == "folder":
            return GeneratorCase(name, {"path": str(request.getfixturevalue("folder_dataset"))})
        pytest.skip(f"no test data for third-party loader {name!r}")
