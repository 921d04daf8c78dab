"""Cache keys and atomic storage."""

from __future__ import annotations

import math

import pytest
import torch

from ropbench.cache import Cache, CorruptCacheEntryError, canonical_json, content_key
from ropbench.seeding import derive_seed


def test_key_ignores_dict_order_but_not_values():
    assert content_key({"a": 1, "b": [1, 2]}) == content_key({"b": [1, 2], "a": 1})
    assert content_key({"a": 1}) != content_key({"a": 2})
    assert content_key({"a": 1}) != content_key({"a": 1.5})
    assert content_key({"params": {"x": 1}}) != content_key({"params": {"x": 1}, "version": "2"})


def test_canonical_json_is_compact_and_sorted():
    assert canonical_json({"b": 1, "a": [True, None, "x"]}) == '{"a":[true,null,"x"],"b":1}'


@pytest.mark.parametrize("bad", [math.nan, math.inf, object()])
def test_unhashable_values_are_refused(bad):
    with pytest.raises((TypeError, ValueError)):
        content_key({"x": bad})


def test_round_trips_and_leaves_no_temporary_files(tmp_path):
    cache = Cache(tmp_path)
    key = content_key({"k": 1})
    cache.save_json("scores", key, {"value": 0.5})
    cache.save_tensors("heatmaps", key, {"heatmaps": torch.arange(6.0).reshape(2, 3)})
    assert cache.load_json("scores", key) == {"value": 0.5}
    assert torch.equal(cache.load_tensors("heatmaps", key)["heatmaps"], torch.arange(6.0).reshape(2, 3))
    assert not [p for p in tmp_path.rglob(".tmp-*")]


def test_a_damaged_entry_is_reported_with_its_path(tmp_path):
    cache = Cache(tmp_path)
    key = content_key("x")
    path = cache.path("data", key, ".pt")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a torch file")
    with pytest.raises(CorruptCacheEntryError, match=str(path)):
        cache.load_tensors("data", key)


def test_derived_seeds_are_stable_distinct_and_31_bit():
    assert derive_seed(0, "data", "train") == derive_seed(0, "data", "train")
    seeds = {derive_seed(s, "data", split) for s in range(5) for split in ("train", "val", "test")}
    assert len(seeds) == 15
    assert all(0 <= s < 2**31 for s in seeds)
