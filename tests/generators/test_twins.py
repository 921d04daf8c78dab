"""``pairing="twins"``: healthy image 2k is ROP image 2k+1 with its disease removed."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ropbench.errors import RopbenchError
from ropbench.specs import RetinaBatch
from ropbench.testing.generator_contract import assert_batches_equal
from ropbench_plugins.generators import VARIANTS, ropbench_register_generators, rng
from ropbench_plugins.generators.walk_params import WalkParams
from ropbench_plugins.generators.walkers import simulate_walkers

SYNTHETIC = [variant.name for variant in VARIANTS]


def _spec(name: str):
    return {spec.name: spec for spec in ropbench_register_generators()}[name]


def _twins(name: str, n: int, size: int, seed: int, start: int = 0) -> RetinaBatch:
    return _spec(name).generate(n=n, size=size, seed=seed, start=start, pairing="twins")


@pytest.mark.parametrize("size", [40, 112])
@pytest.mark.parametrize("name", SYNTHETIC)
def test_twins_are_identical_outside_the_rop_twins_region(name: str, size: int) -> None:
    # 40 px: the margin is under a pixel, so the region is the changed pixels themselves;
    # 112 px: rw-fundus blurs vessels by 2 px, more than its 1-px margin.
    batch = _twins(name, 16, size, seed=5)
    healthy, rop = batch.select(slice(0, None, 2)), batch.select(slice(1, None, 2))
    outside = ~rop.masks
    assert torch.equal(healthy.images * outside[:, None], rop.images * outside[:, None])
    assert torch.equal(healthy.vessels * outside, rop.vessels * outside)
    assert not bool(healthy.masks.any()) and not bool(healthy.tortuous_vessels.any())
    assert bool(rop.tortuous_vessels.flatten(1).any(1).all())
    # ...and the disease does show: every pair differs somewhere.
    assert bool((healthy.images != rop.images).flatten(1).any(1).all())


@pytest.mark.parametrize("name", SYNTHETIC)
def test_twins_share_their_tree(name: str) -> None:
    batch = _twins(name, 24, 24, seed=2)
    for healthy, rop in zip(batch.metadata[0::2], batch.metadata[1::2]):
        assert healthy["vessel_count"] == rop["vessel_count"]
        assert healthy["optic_disc"] == rop["optic_disc"] and healthy["attempt"] == rop["attempt"]
        assert [v["generation"] for v in healthy["vessels"]] == [v["generation"] for v in rop["vessels"]]
        assert (healthy["twin"], rop["twin"]) == (rop["index"], healthy["index"])
        # Straightening shortens tortuous vessels and leaves the others exactly as they were.
        for plain, diseased in zip(healthy["vessels"], rop["vessels"]):
            if diseased["tortuous"]:
                assert plain["length"] < diseased["length"]
            elif name != "rw-graded":  # graded: the disease also bends vessels short of its region
                assert plain["length"] == diseased["length"]


@pytest.mark.parametrize("name", SYNTHETIC)
def test_a_twin_drawn_alone_equals_one_drawn_with_its_pair(name: str) -> None:
    whole = _twins(name, 9, 32, seed=3)
    # Odd starts and single images split every pair across calls.
    parts = [_twins(name, 1, 32, seed=3, start=0), _twins(name, 3, 32, seed=3, start=1), _twins(name, 5, 32, seed=3, start=4)]
    assert_batches_equal(RetinaBatch.concat(parts), whole)


def test_twins_are_other_images_than_unpaired_ones() -> None:
    spec = _spec("rw-classic")
    assert not torch.equal(spec.generate(n=2, size=32, seed=1).images, _twins("rw-classic", 2, 32, seed=1).images)


def test_an_unknown_pairing_is_named() -> None:
    with pytest.raises(RopbenchError, match="pairing must be one of none, twins"):
        _spec("rw-classic").generate(n=2, size=16, seed=0, pairing="triplets")


def test_in_twin_mode_branching_ignores_tortuosity() -> None:
    # Without sine moves a walker's tortuous flag only sets its branching rate (x0.75 in
    # the original), so trees of 6 tortuous roots and of none coincide exactly iff the
    # flag does not touch branching.
    keys = rng.combine(np.uint64(7), np.arange(20))
    rop = np.ones(20, bool)
    walks = [WalkParams(tortuous_roots=k, tortuous_probability=0.0) for k in (0, 6)]
    unpaired = [simulate_walkers(keys, rop, walk) for walk in walks]
    paired = [simulate_walkers(keys, rop, walk, twins=True) for walk in walks]
    assert len(unpaired[0].vessel_image) != len(unpaired[1].vessel_image)
    assert np.array_equal(paired[0].vertex_x, paired[1].vertex_x)
    assert np.array_equal(paired[0].vessel_image, paired[1].vessel_image)


def test_twin_trees_give_both_classes_the_same_vessel_counts() -> None:
    # The colleague's measurement: unpaired rw-classic has ~20 % fewer vessels in ROP images.
    batch = _twins("rw-classic", 80, 16, seed=11)
    counts = np.array([m["vessel_count"] for m in batch.metadata])
    assert np.array_equal(counts[0::2], counts[1::2])
    unpaired = _spec("rw-classic").generate(n=80, size=16, seed=11)
    plain = np.array([m["vessel_count"] for m in unpaired.metadata])
    assert plain[1::2].mean() < 0.9 * plain[0::2].mean()
