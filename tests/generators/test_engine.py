"""The random-walker engine: keyed randomness, resolution independence, chunking, widths."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ropbench.registry import get_registry
from ropbench.testing.generator_contract import assert_batches_equal
from ropbench_plugins.generators import VARIANTS, rng
from ropbench_plugins.generators.walk_params import WalkParams
from ropbench_plugins.generators.walkers import simulate_walkers

SYNTHETIC = [variant.name for variant in VARIANTS]


def test_keyed_uniforms_are_pure_and_spread() -> None:
    keys = rng.combine(np.uint64(5), np.arange(4000))
    first, again = rng.uniform(keys, 1), rng.uniform(keys, 1)
    assert np.array_equal(first, again)
    assert 0.0 <= first.min() and first.max() < 1.0
    assert abs(first.mean() - 0.5) < 0.02
    assert not np.array_equal(first, rng.uniform(keys, 2))  # another stream, other numbers


@pytest.mark.parametrize("name", SYNTHETIC)
def test_same_tree_at_any_resolution(name: str) -> None:
    spec = get_registry().generators.get(name)
    small, large = spec.generate(n=4, size=24, seed=2), spec.generate(n=4, size=56, seed=2)
    # Indices are measured on the polylines, which live in normalised coordinates.
    assert [m["vessels"] for m in small.metadata] == [m["vessels"] for m in large.metadata]


def test_chunks_across_internal_chunk_boundaries() -> None:
    spec = get_registry().generators.get("rw-classic")
    whole = spec.generate(n=70, size=12, seed=4)  # more than one internal chunk at this size
    parts = [spec.generate(n=33, size=12, seed=4, start=37), spec.generate(n=37, size=12, seed=4)]
    from ropbench.specs import RetinaBatch

    assert_batches_equal(RetinaBatch.concat([parts[1], parts[0]]), whole)


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.name)
def test_vessel_widths_at_224_px_are_realistic(variant) -> None:
    # Real vessels at 224 px are 0.5-4.5 px wide; drawn widths never go below the floor.
    params = dict(variant.defaults)
    walk = WalkParams.from_params(params)
    keys = rng.combine(np.uint64(0), np.arange(8))
    rop = np.arange(8) % 2 == 1
    tree = simulate_walkers(keys, rop, walk)
    if variant.shape is not None:
        tree = variant.shape(tree, keys, rop, params)
    drawn = np.maximum(tree.vertex_half_width, walk.min_half_width) * 2 * 224
    assert drawn.min() >= 0.5 and drawn.max() <= 4.5


def test_unknown_parameter_is_named() -> None:
    from ropbench.errors import RopbenchError

    with pytest.raises(RopbenchError, match="wiggle_factor"):
        get_registry().generators.get("rw-classic").generate(n=2, size=16, seed=0, wiggle_factor=2)


def test_classic_is_white_on_black_and_its_vessel_map_is_the_image() -> None:
    batch = get_registry().generators.get("rw-classic").generate(n=4, size=48, seed=1)
    assert torch.equal(batch.images[:, 0], batch.images[:, 1]) and torch.equal(batch.images[:, 1], batch.images[:, 2])
    assert torch.allclose(batch.images[:, 0].float() / 255, batch.vessels, atol=0.5 / 255 + 1e-6)
