"""The data stage: generate (or load) the train, val and test splits of one data task.

Each split is its own cache entry (``data/<key>.<split>.pt``), so a stage that needs only
the test split reads only that. The test split also stores the vessel segments
(:func:`ropbench.vessels.vessel_segments`) the segment-level metrics rank.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Mapping

import torch

from ropbench.cache import Cache, CorruptCacheEntryError
from ropbench.generation import generate_chunks
from ropbench.registry import Registry
from ropbench.seeding import derive_seed
from ropbench.specs import GeneratorSpec, RetinaBatch
from ropbench.stages.errors import StageError
from ropbench.tasks import DataTask

__all__ = ["SPLITS", "EvaluationSplit", "run_data_stage", "load_split", "load_test_split", "split_entry", "check_batch",
           "outputs"]

SPLITS = ("train", "val", "test")
DATA = "data"


def split_entry(split: str) -> str:
    """The cache-file suffix of one split of a data task."""
    return f".{split}.pt"


def _record(batch: RetinaBatch) -> dict[str, Any]:
    return {
        "images": batch.images, "labels": batch.labels, "masks": batch.masks,
        "tortuous_vessels": batch.tortuous_vessels, "vessels": batch.vessels,
        "metadata": json.dumps(list(batch.metadata)),
    }


def _batch(record: Mapping[str, Any]) -> RetinaBatch:
    return RetinaBatch(
        images=record["images"], labels=record["labels"], masks=record["masks"],
        tortuous_vessels=record["tortuous_vessels"], vessels=record["vessels"],
        metadata=tuple(json.loads(record["metadata"])),
    )


def check_batch(batch: RetinaBatch, n: int, size: int, spec: GeneratorSpec, start: int) -> None:
    """Hold a generator to its contract before anything downstream trusts it: the same
    checks as the conformance kit's, cheap enough for every chunk."""
    name = spec.name
    expected = {
        "images": ((n, 3, size, size), torch.uint8),
        "labels": ((n,), torch.int64),
        "masks": ((n, size, size), torch.bool),
        "tortuous_vessels": ((n, size, size), torch.bool),
        "vessels": ((n, size, size), torch.float32),
    }
    for field_name, (shape, dtype) in expected.items():
        tensor = getattr(batch, field_name)
        if not isinstance(tensor, torch.Tensor) or tuple(tensor.shape) != shape or tensor.dtype != dtype:
            got = f"{tuple(tensor.shape)} {tensor.dtype}" if isinstance(tensor, torch.Tensor) else type(tensor).__name__
            raise StageError(f"generator {name!r} returned {field_name} {got}; expected {shape} {dtype}")
    labels = batch.labels
    if bool(((labels != 0) & (labels != 1)).any()):
        raise StageError(f"generator {name!r} returned labels {sorted(set(labels.tolist()))}; expected 0 (healthy) or 1 (ROP)")
    if spec.source == "synthetic":
        expected_labels = (torch.arange(start, start + n) % 2).to(torch.int64)
        if not torch.equal(labels, expected_labels):
            raise StageError(f"generator {name!r} broke the label rule: synthetic image i must be ROP iff i is odd "
                             f"(images {start}..{start + n - 1} got labels {labels.tolist()[:8]}...)")
    if n and (float(batch.vessels.min()) < 0.0 or float(batch.vessels.max()) > 1.0):
        raise StageError(f"generator {name!r} returned a vessel plane outside [0, 1] "
                         f"(min {float(batch.vessels.min()):.3g}, max {float(batch.vessels.max()):.3g})")
    if bool(batch.masks[labels == 0].any()):
        raise StageError(f"generator {name!r} returned a non-empty tortuous mask for a healthy image")
    if len(batch.metadata) not in (0, n):
        raise StageError(f"generator {name!r} returned {len(batch.metadata)} metadata records for {n} images")
    try:
        json.dumps(list(batch.metadata), allow_nan=True)
    except (TypeError, ValueError) as error:
        raise StageError(f"generator {name!r} returned metadata that is not JSON-serialisable: {error} "
                         "(convert NumPy scalars with float() or int())") from None


def _generate_split(spec: GeneratorSpec, task: DataTask, split: str, n: int, offset: int,
                    log: Callable[[str], None]) -> RetinaBatch:
    # Synthetic generators draw each split from its own seed; a fixed dataset is cut
    # into consecutive, disjoint ranges of one seeded order.
    if task.source == "dataset":
        split_seed, start = task.seed, offset
    else:
        split_seed, start = derive_seed(task.seed, "data", split), 0
    chunks = []
    first = start
    for batch in generate_chunks(spec, n, task.image_size, split_seed, start, task.generator.call_params(),
                                 workers=task.workers):
        check_batch(batch, len(batch), task.image_size, spec, first)
        chunks.append(batch)
        first += len(batch)
        log(f"{split} {first - start}/{n}")
    return RetinaBatch.concat(chunks) if chunks else spec.generate(0, task.image_size, split_seed, start=start,
                                                                   **task.generator.call_params())


def run_data_stage(task: DataTask, cache: Cache, registry: Registry, log: Callable[[str], None]) -> dict[str, Any]:
    """Generate every split and store each (even over existing entries: the caller asks
    only when they are missing or damaged); returns the stage's info."""
    from ropbench.vessels import vessel_segments

    spec = registry.generators.get(task.generator.name)
    offset = 0
    info: dict[str, Any] = {}
    for split in SPLITS:
        n = getattr(task.counts, split)
        batch = _generate_split(spec, task, split, n, offset, log)
        record = _record(batch)
        if split == "test":
            record["vessel_segments"] = vessel_segments(batch.vessels)
        cache.save_tensors(DATA, task.key, record, suffix=split_entry(split))
        info[split] = {"images": n, "rop": int(batch.labels.sum())}
        offset += n
    return info


def outputs(task: DataTask) -> list[tuple[str, str, str]]:
    return [(DATA, task.key, split_entry(split)) for split in SPLITS]


def _load_record(cache: Cache, task: DataTask, split: str, registry: Registry,
                 log: Callable[[str], None]) -> Mapping[str, Any]:
    """A split's record; a missing or unreadable entry is regenerated, not fatal."""
    try:
        return cache.load_tensors(DATA, task.key, suffix=split_entry(split))
    except CorruptCacheEntryError as error:
        log(f"data of {task.label}: {error.reason}; regenerating it")
        run_data_stage(task, cache, registry, log)
        return cache.load_tensors(DATA, task.key, suffix=split_entry(split))


def load_split(cache: Cache, task: DataTask, split: str, registry: Registry,
               log: Callable[[str], None] = lambda _: None) -> RetinaBatch:
    """One split of a data task (regenerated if its cache entry is missing or damaged)."""
    return _batch(_load_record(cache, task, split, registry, log))


class EvaluationSplit:
    """The test split and the plane only scoring needs (the vessel segments)."""

    def __init__(self, batch: RetinaBatch, vessel_segments: torch.Tensor) -> None:
        self.batch = batch
        self.vessel_segments = vessel_segments


def load_test_split(cache: Cache, task: DataTask, registry: Registry,
                    log: Callable[[str], None] = lambda _: None) -> EvaluationSplit:
    record = _load_record(cache, task, "test", registry, log)
    return EvaluationSplit(_batch(record), record["vessel_segments"])
