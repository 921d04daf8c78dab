"""The picklable runtime that executes one task: what every executor calls.

It holds only plain values (cache path, thread count, verbosity), so a Ray worker or a
subprocess can rebuild everything else (the registry, the cache) on its side.
"""

from __future__ import annotations

import sys
import time
import traceback
from dataclasses import dataclass
from typing import Any, Callable

from ropbench.cache import Cache
from ropbench.executing import Task, TaskOutcome

__all__ = ["StageRuntime", "RESULTS_STAGE"]

RESULTS_STAGE = "results"  # cache folder of each finished task's rows


@dataclass(frozen=True)
class StageRuntime:
    cache_root: str
    threads: int = 0  # 0: leave torch's default
    verbose: bool = True

    def _reporter(self, task: Task) -> Callable[[str], None]:
        if not self.verbose:
            return lambda _: None

        def report(message: str) -> None:
            print(f"      {task.stage} {task.label}: {message}", file=sys.stderr, flush=True)

        return report

    def execute(self, task: Task) -> TaskOutcome:
        import torch

        from ropbench.registry import get_registry
        from ropbench.stages.data import run_data_stage
        from ropbench.stages.explain import PartialStageError, run_explain_stage
        from ropbench.stages.train import run_train_stage

        if self.threads:
            torch.set_num_threads(self.threads)
        cache = Cache(self.cache_root)
        if cache.has(RESULTS_STAGE, task.key, ".json"):
            return TaskOutcome(task.key, "cached", cache_hits=1)
        started = time.perf_counter()
        report = self._reporter(task)
        registry = get_registry()
        rows: list[dict[str, Any]] = []
        info: dict[str, Any] = {}
        hits = misses = 0
        try:
            if task.stage == "data":
                run_data_stage(task.payload, cache, task.key, registry, report)
                misses = 1
            elif task.stage == "train":
                rows, info, hits, misses = run_train_stage(task.payload, cache, registry, report)
            elif task.stage == "explain":
                rows, info, hits, misses = run_explain_stage(task.payload, cache, registry, report)
            else:
                raise ValueError(f"unknown stage {task.stage!r}")
        except KeyboardInterrupt:
            raise
        except Exception as error:
            seconds = time.perf_counter() - started
            if isinstance(error, PartialStageError):  # keep what was computed
                cache.save_json("partial", task.key, {"rows": error.rows, "info": error.info})
            message = f"{type(error).__name__}: {error}\n{traceback.format_exc()}"
            return TaskOutcome(task.key, "failed", seconds, error=message)
        seconds = time.perf_counter() - started
        cache.save_json(RESULTS_STAGE, task.key, {"rows": rows, "info": info, "seconds": seconds})
        return TaskOutcome(task.key, "done", seconds, cache_hits=hits, cache_misses=misses)
