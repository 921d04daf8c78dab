"""``ropbench.generation``: chunks in order, identical for any worker count and chunk size."""

from __future__ import annotations

import pytest

from ropbench.errors import RopbenchError
from ropbench.generation import default_chunk, generate_chunks, map_chunks
from ropbench.specs import RetinaBatch
from ropbench.testing.generator_contract import assert_batches_equal
from ropbench_plugins.generators import ropbench_register_generators


def _spec(name: str = "rw-classic"):
    return {spec.name: spec for spec in ropbench_register_generators()}[name]


@pytest.mark.parametrize(("workers", "chunk"), [(1, 7), (2, 5), (2, 64)])
def test_chunks_concatenate_to_one_call(workers: int, chunk: int) -> None:
    spec = _spec()
    whole = spec.generate(n=23, size=24, seed=6, start=3, pairing="twins")
    chunks = list(generate_chunks(spec, 23, 24, 6, 3, {"pairing": "twins"}, workers=workers, chunk=chunk))
    assert [len(c) for c in chunks] == [min(chunk, 23 - k) for k in range(0, 23, chunk)]
    assert_batches_equal(RetinaBatch.concat(chunks), whole)


def test_transform_runs_on_each_chunk_with_its_first_index() -> None:
    firsts = list(map_chunks(_spec(), 10, 16, 0, 4, None, workers=2, chunk=3, transform=_first_and_count))
    assert firsts == [(4, 3), (7, 3), (10, 3), (13, 1)]


def _first_and_count(batch: RetinaBatch, first: int) -> tuple[int, int]:
    return first, len(batch)


def test_a_worker_error_reaches_the_caller() -> None:
    with pytest.raises(RopbenchError, match="bogus"):
        list(generate_chunks(_spec(), 8, 16, 0, params={"bogus": 1}, workers=2, chunk=2))


def test_stopping_early_returns_at_once() -> None:
    chunks = generate_chunks(_spec(), 400, 16, 0, workers=2, chunk=4)
    assert len(next(chunks)) == 4
    chunks.close()  # shuts the pool down, cancelling the queued chunks


def test_bad_arguments_are_refused_at_the_call() -> None:
    with pytest.raises(RopbenchError, match="workers >= 1"):
        generate_chunks(_spec(), 4, 16, 0, workers=0)
    with pytest.raises(RopbenchError, match="chunk >= 1"):
        generate_chunks(_spec(), 4, 16, 0, chunk=0)


def test_default_chunk_bounds_memory() -> None:
    # 2^23 pixels per chunk: 64 images up to 362 px, 23 images of 600 px.
    assert default_chunk(128) == 64 and default_chunk(600) == 23 and default_chunk(4096) == 1


def test_a_generator_that_cannot_pickle_is_named() -> None:
    from dataclasses import replace

    spec = replace(_spec(), generate=lambda **kwargs: _spec().generate(**kwargs))
    assert len(RetinaBatch.concat(list(generate_chunks(spec, 4, 16, 0, workers=1, chunk=2)))) == 4
    with pytest.raises(RopbenchError, match="cannot be sent to worker processes"):
        generate_chunks(spec, 4, 16, 0, workers=2, chunk=2)
