"""The picklable runtime that executes one task: what every executor calls.

It holds only plain values (cache path, thread count, verbosity), so a Ray worker or a
subprocess can rebuild everything else (the registry, the cache) on its side.

A task counts as ``cached`` only when its record (``results/<key>.json``) is readable and
every output it lists is present with the bytes it was written with (sha256); otherwise
it runs, and a stage that finds an upstream output
missing or damaged recomputes that output instead of failing. Each record says which
ropbench version and thread count produced it.
"""

from __future__ import annotations

import fnmatch
import sys
import time
import traceback
from dataclasses import dataclass
from typing import Any, Callable

from ropbench.cache import Cache, CorruptCacheEntryError
from ropbench.executing import TaskOutcome
from ropbench.tasks import DataTask, ExplainTask, ScoreTask, StageTask, TrainTask

__all__ = ["StageRuntime", "RESULTS", "PARTIAL", "task_record", "task_outputs"]

RESULTS = "results"  # cache namespace of each finished task's record
PARTIAL = "partial"  # rows a task computed before some metric failed


def task_record(cache: Cache, task: StageTask) -> dict[str, Any] | None:
    """The finished task's record, or None when it is missing or unreadable."""
    if not cache.has(RESULTS, task.key, ".json"):
        return None
    try:
        record = cache.load_json(RESULTS, task.key)
    except CorruptCacheEntryError:
        return None
    return record if isinstance(record, dict) and "rows" in record else None


def task_outputs(task: StageTask) -> list[tuple[str, str, str]]:
    """The cache entries (namespace, key, suffix) a finished task leaves behind."""
    from ropbench.stages import data, explain, scoring, train

    if isinstance(task, DataTask):
        return data.outputs(task)
    if isinstance(task, TrainTask):
        return train.outputs(task)
    if isinstance(task, ExplainTask):
        return explain.outputs(task)
    if isinstance(task, ScoreTask):
        return scoring.outputs(task)
    raise TypeError(f"unknown task type {type(task).__name__}")


def _digests(task: StageTask, cache: Cache) -> dict[str, str]:
    return {str(cache.path(*entry).relative_to(cache.root)): cache.digest(*entry) for entry in task_outputs(task)}


def _intact(task: StageTask, cache: Cache, record: dict[str, Any]) -> bool:
    """Every output the record lists is present with the bytes it was written with."""
    recorded = record.get("outputs")
    if not isinstance(recorded, dict):
        return False
    try:
        return _digests(task, cache) == recorded
    except OSError:  # a missing or unreadable file
        return False


def _finished_intact(task: StageTask, cache: Cache) -> bool:
    """``task`` finished and every output it recorded is intact: a cache hit."""
    record = task_record(cache, task)
    return record is not None and _intact(task, cache, record)


@dataclass(frozen=True)
class StageRuntime:
    """:param cache_root: the cache every task reads and writes.
    :param threads: torch threads per task (0: leave torch's default).
    :param verbose: per-epoch and per-batch progress lines.
    :param in_process_plugins: plugins registered only in this process (tests,
        notebooks): executors that run tasks elsewhere cannot see them.
    :param refresh: globs of task labels (``rw-classic/seed-cnn/seed=0/my-map``), optionally
        prefixed by a stage (``score:*``), whose tasks recompute everything they own even
        when cached: for developing a plugin without bumping its version at every edit.
    """

    cache_root: str
    threads: int = 0
    verbose: bool = True
    in_process_plugins: tuple[str, ...] = ()
    refresh: tuple[str, ...] = ()

    def refreshes(self, task: StageTask) -> bool:
        return any(fnmatch.fnmatchcase(task.label, pattern) or fnmatch.fnmatchcase(f"{task.stage}:{task.label}", pattern)
                   for pattern in self.refresh)

    def needs_running(self, task: StageTask) -> bool:
        """Whether ``execute`` would compute ``task`` (not cached intact, or refreshed)."""
        return self.refreshes(task) or not _finished_intact(task, Cache(self.cache_root))

    def _log(self, task: StageTask) -> Callable[[str], None]:
        if not self.verbose:
            return lambda _: None

        def log(message: str) -> None:
            print(f"      {task.stage} {task.label}: {message}", file=sys.stderr, flush=True)

        return log

    def _produced_by(self) -> dict[str, Any]:
        import torch

        from ropbench import __version__

        return {"ropbench": __version__, "threads": torch.get_num_threads()}

    def execute(self, task: StageTask) -> TaskOutcome:  # type: ignore[override]
        import torch

        if self.threads:
            torch.set_num_threads(self.threads)
        cache = Cache(self.cache_root)
        refresh = self.refreshes(task)
        if not refresh and _finished_intact(task, cache):
            return TaskOutcome(task.key, "cached", cache_hits=1)
        started = time.perf_counter()
        try:
            rows, info, hits, misses = self._run(task, cache, refresh)
        except KeyboardInterrupt:
            raise
        except Exception as error:
            from ropbench.stages.errors import PartialStageError

            seconds = time.perf_counter() - started
            if isinstance(error, PartialStageError):  # keep what was computed
                cache.save_json(PARTIAL, task.key, {"rows": error.rows, "info": error.info,
                                                    "produced_by": self._produced_by()})
            message = f"{type(error).__name__}: {error}\n{traceback.format_exc()}"
            return TaskOutcome(task.key, "failed", seconds, error=message)
        seconds = time.perf_counter() - started
        cache.save_json(RESULTS, task.key, {"rows": rows, "info": info, "seconds": seconds,
                                            "outputs": _digests(task, cache), "produced_by": self._produced_by()})
        cache.remove(PARTIAL, task.key, ".json")
        return TaskOutcome(task.key, "done", seconds, cache_hits=hits, cache_misses=misses)

    def _run(self, task: StageTask, cache: Cache,
             refresh: bool) -> tuple[list[dict[str, Any]], dict[str, Any], int, int]:
        from ropbench.registry import get_registry
        from ropbench.stages.data import run_data_stage
        from ropbench.stages.explain import run_explain_stage
        from ropbench.stages.scoring import run_score_stage
        from ropbench.stages.train import run_train_stage

        registry = get_registry()
        log = self._log(task)
        if isinstance(task, DataTask):
            return [], run_data_stage(task, cache, registry, log), 0, 1
        if isinstance(task, TrainTask):
            info, computed = run_train_stage(task, cache, registry, log, refresh)
            return [], info, int(not computed), int(computed)
        if isinstance(task, ExplainTask):
            info, computed = run_explain_stage(task, cache, registry, log, refresh)
            return [], info, int(not computed), int(computed)
        if isinstance(task, ScoreTask):
            return run_score_stage(task, cache, registry, log, refresh)
        raise TypeError(f"unknown task type {type(task).__name__}")
