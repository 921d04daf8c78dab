"""Conformance kit for generator plugins: subclass, name your generator, run pytest.

::

    from ropbench.testing.generator_contract import GeneratorContract

    class TestMyRetinas(GeneratorContract):
        generator_name = "my-retinas"
        generator_params = {"vessel_count": 9}   # optional overrides of the defaults

Each test calls ``generate`` exactly as the harness does and checks one promise of the
contract: shapes and dtypes, labels (synthetic: image i is ROP iff i is odd), masks empty
for healthy images and non-empty for ROP ones, determinism, the prefix property, chunk
independence, and JSON-serialisable metadata. Dataset loaders (``source="dataset"``) must
also refuse rows beyond the end with a message giving the dataset's size.

To run the same tests over many generators, override the class-scoped ``generator_case``
fixture with a parametrized one returning :class:`GeneratorCase` objects.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, ClassVar, Mapping

import pytest
import torch

from ropbench.errors import RopbenchError
from ropbench.testing.registries import contract_registry
from ropbench.specs import GeneratorSpec, RetinaBatch

__all__ = ["GeneratorContract", "GeneratorCase", "assert_batches_equal"]


@dataclass(frozen=True)
class GeneratorCase:
    """A generator and the parameters to test it with."""

    name: str
    params: Mapping[str, Any] = field(default_factory=dict)
    plugins: tuple[Any, ...] = ()  # modules registered in-process (see ropbench.testing.registries)

    @property
    def spec(self) -> GeneratorSpec:
        return contract_registry(self.plugins).generators.get(self.name)

    def generate(self, n: int, size: int, seed: int, start: int = 0) -> RetinaBatch:
        return _generate(self.name, self.plugins, json.dumps(dict(self.params), sort_keys=True), n, size, seed, start)


@lru_cache(maxsize=64)
def _generate(name: str, plugins: tuple[Any, ...], params_json: str, n: int, size: int, seed: int,
              start: int) -> RetinaBatch:
    # Several tests need the same batch: make it once per session.
    spec = contract_registry(plugins).generators.get(name)
    return spec.generate(n=n, size=size, seed=seed, start=start, **json.loads(params_json))


def assert_batches_equal(a: RetinaBatch, b: RetinaBatch) -> None:
    """Every tensor bit-identical and the metadata equal."""
    assert len(a) == len(b)
    for name in ("images", "labels", "masks", "tortuous_vessels", "vessels"):
        left, right = getattr(a, name), getattr(b, name)
        assert left.dtype == right.dtype and left.shape == right.shape, name
        assert torch.equal(left, right), f"{name} differ"
    assert json.dumps(list(a.metadata), sort_keys=True) == json.dumps(list(b.metadata), sort_keys=True)


class GeneratorContract:
    """Base class of the generator conformance tests (not collected itself)."""

    generator_name: ClassVar[str] = ""
    generator_params: ClassVar[Mapping[str, Any]] = {}
    plugins: ClassVar[tuple[Any, ...]] = ()  # plugin modules (or dotted names) to register in-process
    image_size: ClassVar[int] = 32
    n_images: ClassVar[int] = 6  # even, so that both classes appear
    seed: ClassVar[int] = 7

    @pytest.fixture(scope="class")
    @classmethod
    def generator_case(cls) -> GeneratorCase:
        if not cls.generator_name:
            pytest.skip("set generator_name on the GeneratorContract subclass")
        return GeneratorCase(cls.generator_name, dict(cls.generator_params), tuple(cls.plugins))

    @pytest.fixture(scope="class")
    @classmethod
    def batch(cls, generator_case: GeneratorCase) -> RetinaBatch:
        return generator_case.generate(cls.n_images, cls.image_size, cls.seed)

    # -- the spec --------------------------------------------------------------------
    def test_spec_is_well_formed(self, generator_case: GeneratorCase) -> None:
        spec = generator_case.spec
        assert spec.source in ("synthetic", "dataset")
        assert isinstance(spec.version, str) and spec.version
        json.dumps(dict(spec.params))  # parameters are part of cache keys
        assert set(generator_case.params) <= set(spec.params), "test params the spec does not declare"
        if spec.source == "dataset":
            assert "path" in spec.params, "dataset loaders take a 'path' parameter"

    # -- one batch -------------------------------------------------------------------
    def test_shapes_and_dtypes(self, batch: RetinaBatch) -> None:
        n, s = self.n_images, self.image_size
        assert batch.images.shape == (n, 3, s, s) and batch.images.dtype == torch.uint8
        assert batch.labels.shape == (n,) and batch.labels.dtype == torch.int64
        assert batch.masks.shape == (n, s, s) and batch.masks.dtype == torch.bool
        assert batch.tortuous_vessels.shape == (n, s, s) and batch.tortuous_vessels.dtype == torch.bool
        assert batch.vessels.shape == (n, s, s) and batch.vessels.dtype == torch.float32
        assert len(batch.metadata) == n

    def test_labels(self, generator_case: GeneratorCase, batch: RetinaBatch) -> None:
        assert set(batch.labels.tolist()) <= {0, 1}
        if generator_case.spec.source == "synthetic":
            assert batch.labels.tolist() == [i % 2 for i in range(self.n_images)], "image i is ROP iff i is odd"

    def test_masks_follow_labels(self, generator_case: GeneratorCase, batch: RetinaBatch) -> None:
        marked = batch.masks.flatten(1).any(1)
        healthy = batch.labels == 0
        assert not bool(marked[healthy].any()), "healthy images must have empty tortuous masks"
        assert not bool(batch.tortuous_vessels[healthy].any())
        if generator_case.spec.source == "synthetic":
            assert bool(marked[~healthy].all()), "every synthetic ROP image needs a non-empty mask"
            inside = batch.tortuous_vessels & ~batch.masks
            assert not bool(inside.any()), "tortuous vessel pixels must lie inside the tortuous region"

    def test_vessel_map_is_a_fraction(self, batch: RetinaBatch) -> None:
        assert bool(torch.isfinite(batch.vessels).all())
        assert float(batch.vessels.min()) >= 0.0 and float(batch.vessels.max()) <= 1.0

    def test_metadata_is_json(self, batch: RetinaBatch) -> None:
        for record in batch.metadata:
            assert json.loads(json.dumps(record)) == record

    # -- reproducibility -------------------------------------------------------------
    def test_deterministic(self, generator_case: GeneratorCase, batch: RetinaBatch) -> None:
        again = generator_case.spec.generate(
            n=self.n_images, size=self.image_size, seed=self.seed, **generator_case.params
        )
        assert_batches_equal(batch, again)

    def test_prefix_property(self, generator_case: GeneratorCase, batch: RetinaBatch) -> None:
        shorter = generator_case.generate(self.n_images - 2, self.image_size, self.seed)
        assert_batches_equal(shorter, batch.select(slice(0, self.n_images - 2)))

    def test_chunks_in_any_order_are_identical(self, generator_case: GeneratorCase, batch: RetinaBatch) -> None:
        spec, n = generator_case.spec, self.n_images
        make = lambda count, start: spec.generate(  # noqa: E731
            n=count, size=self.image_size, seed=self.seed, start=start, **generator_case.params
        )
        tail, middle, head = make(n - 3, 3), make(2, 1), make(1, 0)  # made last chunk first
        assert_batches_equal(RetinaBatch.concat([head, middle, tail]), batch)

    def test_seed_matters(self, generator_case: GeneratorCase, batch: RetinaBatch) -> None:
        if generator_case.spec.source != "synthetic":
            pytest.skip("a loader's seed only shuffles rows")
        other = generator_case.generate(self.n_images, self.image_size, self.seed + 1)
        assert not torch.equal(other.images, batch.images), "another seed must draw other images"

    def test_rows_beyond_the_end_are_refused(self, generator_case: GeneratorCase) -> None:
        spec = generator_case.spec
        if spec.source != "dataset":
            pytest.skip("synthetic generators have no end")
        with pytest.raises(RopbenchError, match=r"has \d+ images"):
            spec.generate(n=10**6, size=self.image_size, seed=self.seed, **generator_case.params)
