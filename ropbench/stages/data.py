"""The data stage: generate (or load) the train, val and test splits of one cell."""

from __future__ import annotations

from typing import Any, Callable, Mapping

import torch

from ropbench.cache import Cache
from ropbench.registry import Registry
from ropbench.seeding import derive_seed
from ropbench.specs import RetinaBatch

__all__ = ["SPLITS", "run_data_stage", "load_split", "load_splits", "batch_to_record", "record_to_batch"]

SPLITS = ("train", "val", "test")
CHUNK = 64  # images per generate() call: bounded memory and progress between chunks


def batch_to_record(batch: RetinaBatch) -> dict[str, Any]:
    return {
        "images": batch.images,
        "labels": batch.labels,
        "masks": batch.masks,
        "tortuous_vessels": batch.tortuous_vessels,
        "vessels": batch.vessels,
        "metadata": list(batch.metadata),
    }


def record_to_batch(record: Mapping[str, Any]) -> RetinaBatch:
    return RetinaBatch(
        images=record["images"],
        labels=record["labels"],
        masks=record["masks"],
        tortuous_vessels=record["tortuous_vessels"],
        vessels=record["vessels"],
        metadata=tuple(record["metadata"]),
    )


def _check_batch(batch: RetinaBatch, n: int, size: int, generator: str) -> None:
    """Hold a generator to its contract before anything downstream trusts it."""
    expected = {
        "images": ((n, 3, size, size), torch.uint8),
        "labels": ((n,), torch.int64),
        "masks": ((n, size, size), torch.bool),
        "tortuous_vessels": ((n, size, size), torch.bool),
        "vessels": ((n, size, size), torch.float32),
    }
    for name, (shape, dtype) in expected.items():
        tensor = getattr(batch, name)
        if tuple(tensor.shape) != shape or tensor.dtype != dtype:
            raise ValueError(
                f"generator {generator!r} returned {name} {tuple(tensor.shape)} {tensor.dtype}; "
                f"expected {shape} {dtype}"
            )


def run_data_stage(
    payload: Mapping[str, Any], cache: Cache, key: str, registry: Registry,
    report: Callable[[str], None] = lambda _: None,
) -> None:
    entry = payload["generator"]
    spec = registry.generators.get(entry["name"])
    size = int(payload["image_size"])
    seed = int(payload["seed"])
    counts = payload["counts"]
    splits: dict[str, Any] = {}
    offset = 0
    for split in SPLITS:
        n = int(counts[split])
        # Synthetic generators draw each split from its own seed; a fixed dataset is cut
        # into consecutive, disjoint ranges of one seeded order.
        if payload["generator_kind"] == "dataset":
            split_seed, start = seed, offset
        else:
            split_seed, start = derive_seed(seed, "data", split), 0
        chunks = []
        for chunk_start in range(0, n, CHUNK):
            count = min(CHUNK, n - chunk_start)
            batch = spec.generate(count, size, split_seed, start=start + chunk_start, **entry["params"])
            _check_batch(batch, count, size, spec.name)
            chunks.append(batch)
            report(f"{split} {chunk_start + count}/{n}")
        splits[split] = batch_to_record(RetinaBatch.concat(chunks))
        offset += n
    cache.save_tensors("data", key, splits)


def load_splits(cache: Cache, data_key: str) -> dict[str, RetinaBatch]:
    """Every split of a data stage, read from its one cache file in one go."""
    return {split: record_to_batch(record) for split, record in cache.load_tensors("data", data_key).items()}


def load_split(cache: Cache, data_key: str, split: str) -> RetinaBatch:
    return record_to_batch(cache.load_tensors("data", data_key)[split])
