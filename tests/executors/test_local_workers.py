"""The local executor's default worker count: fill the cores when trainings are to run."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from ropbench.errors import RopbenchError
from ropbench_plugins.executors import local
from tests.executors.fakes import make_task


@dataclass(frozen=True)
class _Runtime:
    threads: int
    cached: frozenset[str] = frozenset()

    def needs_running(self, task) -> bool:
        return task.key not in self.cached


@pytest.fixture
def four_cores(monkeypatch):
    monkeypatch.setattr(local.os, "cpu_count", lambda: 4)


def _trainings(*keys: str) -> list:
    return [make_task(key) for key in keys] + [make_task(f"explain-{key}", key, stage="explain") for key in keys]


def test_auto_fills_the_cores_at_the_thread_count(four_cores) -> None:
    tasks = _trainings("a", "b", "c", "d", "e")
    assert local._auto_workers(tasks, _Runtime(threads=1)) == 4
    assert local._auto_workers(tasks, _Runtime(threads=2)) == 2
    assert local._auto_workers(tasks, _Runtime(threads=8)) == 1


def test_auto_starts_no_workers_for_fewer_than_two_trainings_to_run(four_cores) -> None:
    assert local._auto_workers(_trainings("a"), _Runtime(threads=1)) == 1
    # cached trainings do not count: a rerun runs in this process
    assert local._auto_workers(_trainings("a", "b", "c"), _Runtime(threads=1, cached=frozenset({"a", "b"}))) == 1
    assert local._auto_workers(_trainings("a", "b", "c"), _Runtime(threads=1, cached=frozenset({"a"}))) == 2


def test_unknown_worker_values_name_the_option() -> None:
    with pytest.raises(RopbenchError, match="workers must be an integer >= 1, 'cores' or 'auto', got 'many'"):
        local.run_locally(_trainings("a"), _Runtime(threads=1), progress=None, workers="many")
