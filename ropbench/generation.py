"""Generating a dataset chunk by chunk, in order, on as many processes as asked.

The one chunk loop of the harness: the data stage and ``ropbench generate`` both call
:func:`generate_chunks`. Image i of a generator depends only on (generator, params, seed,
i), so chunks can be made anywhere and in any order: the output is byte-identical for
every worker count and chunk size, and only a bounded number of chunks is in memory.

Workers are processes (forked where the platform allows, as PyTorch's DataLoader does),
each with one torch thread: generation is Python- and memory-bound, and processes scale
where threads would not. :func:`map_chunks` also runs a function on each chunk inside the
worker, so expensive per-chunk work (PNG encoding for ``ropbench generate``) is parallel
too and only its (small) result travels back.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping, TypeVar

from ropbench.errors import RopbenchError

if TYPE_CHECKING:
    from ropbench.specs import GeneratorSpec, RetinaBatch

__all__ = ["generate_chunks", "map_chunks", "default_chunk", "default_workers", "CHUNK_PIXELS"]

T = TypeVar("T")
CHUNK_PIXELS = 1 << 23  # pixels per chunk: 64 images up to 362 px, 23 at 600 px (flat memory)
_AHEAD = 2  # chunks queued per worker: keeps workers busy while the consumer catches up


def default_chunk(size: int) -> int:
    """Images per chunk at side ``size``: 64, fewer for large images (bounded memory)."""
    return max(1, min(64, CHUNK_PIXELS // (size * size)))


def default_workers() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def generate_chunks(
    spec: "GeneratorSpec", n: int, size: int, seed: int, start: int = 0, params: Mapping[str, Any] | None = None,
    workers: int = 1, chunk: int | None = None,
) -> Iterator["RetinaBatch"]:
    """Images ``start .. start+n-1`` of ``spec`` as consecutive RetinaBatch chunks, in order.

    :param params: generator parameters (the spec's defaults fill the rest).
    :param workers: processes generating at once; 1 generates in this process.
    :param chunk: images per chunk (default :func:`default_chunk`); the last may be shorter.
    """
    return map_chunks(spec, n, size, seed, start, params, workers, chunk, _unchanged)


def map_chunks(
    spec: "GeneratorSpec", n: int, size: int, seed: int, start: int = 0, params: Mapping[str, Any] | None = None,
    workers: int = 1, chunk: int | None = None, transform: Callable[["RetinaBatch", int], T] | None = None,
) -> Iterator[T]:
    """``transform(batch, first)`` of each chunk, in order, computed where the chunk is made.

    ``first`` is the chunk's first image index. ``transform`` must be picklable (a
    module-level function or a partial of one) when ``workers > 1``.
    """
    chunk = default_chunk(size) if chunk is None else chunk
    if n < 0 or start < 0 or chunk < 1 or workers < 1:
        raise RopbenchError(f"need n >= 0, start >= 0, chunk >= 1 and workers >= 1; got {n}, {start}, {chunk}, {workers}")
    job = _Job(spec, size, seed, dict(params or {}), transform or _unchanged)
    ranges = [(first, min(chunk, start + n - first)) for first in range(start, start + n, chunk)]
    if workers == 1 or len(ranges) <= 1:
        return (job(first, count) for first, count in ranges)
    try:
        pickle.dumps(job)
    except Exception as error:  # pickling raises more than PicklingError (AttributeError, TypeError)
        raise RopbenchError(
            f"generator {spec.name!r} cannot be sent to worker processes ({error}); "
            "register a module-level function (or a partial of one), or use one worker"
        ) from error
    return _in_processes(job, ranges, min(workers, len(ranges)))


def _unchanged(batch: "RetinaBatch", first: int) -> "RetinaBatch":
    return batch


class _Job:
    """Makes one chunk (picklable: a worker receives it with each task)."""

    def __init__(self, spec: "GeneratorSpec", size: int, seed: int, params: dict[str, Any], transform: Callable) -> None:
        self.spec, self.size, self.seed, self.params, self.transform = spec, size, seed, params, transform

    def __call__(self, first: int, count: int) -> Any:
        batch = self.spec.generate(n=count, size=self.size, seed=self.seed, start=first, **self.params)
        return self.transform(batch, first)


def _one_thread() -> None:
    import torch

    torch.set_num_threads(1)


def _in_processes(job: _Job, ranges: list[tuple[int, int]], workers: int) -> Iterator[Any]:
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    pending: deque[Future] = deque()
    queue = iter(ranges)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_one_thread) as pool:
        try:
            for first, count in queue:
                pending.append(pool.submit(job, first, count))
                if len(pending) >= workers * _AHEAD:
                    break
            while pending:
                result = pending.popleft().result()
                for first, count in queue:
                    pending.append(pool.submit(job, first, count))
                    break
                yield result
        finally:
            for future in pending:  # a consumer that stops early does not wait for the rest
                future.cancel()
