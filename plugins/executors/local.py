"""The default executor: tasks on this machine, in this process or in worker processes.

With ``workers = 1`` every task runs in this process, in plan order. With more, tasks
whose inputs are ready run side by side in that many worker processes (one task each at
a time), which on a small CPU is faster than one task using every core: the quick
suite's small models scale poorly across threads. Results do not depend on the number
of workers, only on the thread count per task (``--threads``), because every task
computes the same bits wherever it runs.

The default, ``workers = "auto"``, fills the cores: ``cores // threads`` workers when at
least two trainings are still to run (their cache entries missing), else one process,
so a cached rerun or a one-model suite does not pay for starting workers (about 5 s
each: every worker imports torch).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, Sequence

from ropbench import hookimpl
from ropbench.executing import (
    ExecutionReport,
    ProgressSink,
    Task,
    TaskOutcome,
    TaskRuntime,
    run_when_ready,
)
from ropbench.specs import ExecutorSpec

__all__ = ["run_locally", "ropbench_register_executors"]


class _InProcess:
    """One task at a time, in this process: run when the driver waits for it."""

    capacity = 1

    def __init__(self, runtime: TaskRuntime) -> None:
        self.runtime = runtime
        self.pending: dict[str, Task] = {}
        self.outcomes: dict[str, TaskOutcome] = {}

    def submit(self, task: Task) -> str:
        self.pending[task.key] = task
        return task.key

    def wait(self, handles: list[str], timeout: float) -> list[str]:
        for key in handles:
            self.outcomes[key] = self.runtime.execute(self.pending.pop(key))
        return handles

    def outcome(self, handle: str, task: Task) -> TaskOutcome:
        return self.outcomes.pop(handle)

    def cancel(self, handles: list[Any]) -> None:
        pass


def _execute(runtime: TaskRuntime, task: Task) -> TaskOutcome:
    return runtime.execute(task)


class _Processes:
    """Worker processes (spawned: a forked child could inherit a busy OpenMP pool)."""

    def __init__(self, runtime: TaskRuntime, workers: int) -> None:
        self.runtime = runtime
        self.capacity = workers
        self.executor = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))

    def submit(self, task: Task) -> Future:
        return self.executor.submit(_execute, self.runtime, task)

    def wait(self, handles: list[Future], timeout: float) -> list[Future]:
        done, _ = wait(handles, timeout=timeout, return_when=FIRST_COMPLETED)
        return list(done)

    def outcome(self, handle: Future, task: Task) -> TaskOutcome:
        try:
            return handle.result()
        except Exception as error:  # the worker process died (killed, out of memory)
            return TaskOutcome(task.key, "failed", error=f"{type(error).__name__}: a worker process "
                               f"running this task stopped ({error})")

    def cancel(self, handles: list[Future]) -> None:
        # The worker processes must be listed before shutdown, which forgets them.
        processes = list((getattr(self.executor, "_processes", None) or {}).values())
        for handle in handles:
            handle.cancel()
        self.executor.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.terminate()  # a running stage stops now, as with one process

    def close(self) -> None:
        self.executor.shutdown(wait=True)


def _auto_workers(tasks: Sequence[Task], runtime: TaskRuntime) -> int:
    """Workers that fill the cores at the runtime's threads per task, when two or more
    trainings (the long tasks) are still to run; else 1."""
    threads = max(int(getattr(runtime, "threads", 0) or 1), 1)
    fits = max((os.cpu_count() or 1) // threads, 1)
    to_run = getattr(runtime, "needs_running", lambda task: True)
    trainings = sum(1 for task in tasks if getattr(task, "stage", "") == "train" and to_run(task))
    return min(fits, trainings) if trainings >= 2 else 1


def run_locally(tasks: Sequence[Task], runtime: TaskRuntime, progress: ProgressSink, *,
                workers: int | str = "auto") -> ExecutionReport:
    """Run ``tasks`` on this machine; a failure skips only the tasks that depend on it.

    :param workers: worker processes; 1 runs every task in this process; ``"cores"`` one
        per core; ``"auto"`` (default) one per ``--threads`` share of the cores when two
        or more trainings are still to run, else 1. Plugins registered in-process (tests,
        notebooks) exist only here, so they always run with 1.

    Ctrl-C stops after recording what finished; the cache keeps every finished stage.
    """
    if workers == "auto":
        count: object = _auto_workers(tasks, runtime)
    else:
        count = (os.cpu_count() or 1) if workers == "cores" else workers
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        from ropbench.errors import RopbenchError

        raise RopbenchError("the local executor's workers must be an integer >= 1, 'cores' or 'auto', "
                            f"got {workers!r}")
    if getattr(runtime, "in_process_plugins", ()) and count > 1:
        print(f"local executor: plugins registered in this process ({', '.join(runtime.in_process_plugins)}) "
              "cannot reach worker processes; running with workers = 1", file=sys.stderr)
        count = 1
    if count == 1 or len(tasks) <= 1:
        return run_when_ready(tasks, _InProcess(runtime), progress)
    print(f"local executor: {count} worker processes (workers = {workers!r}; --option workers=1 runs in "
          "this process)", file=sys.stderr)
    pool = _Processes(runtime, count)
    try:
        return run_when_ready(tasks, pool, progress)
    finally:
        pool.close()


@hookimpl
def ropbench_register_executors() -> list[ExecutorSpec]:
    return [ExecutorSpec(
        name="local", run=run_locally, params={"workers": "auto"},
        description="Runs tasks on this machine: side by side in worker processes, one per --threads "
        "share of the cores when two or more trainings are to run (workers = auto, the default), "
        "or --option workers=N / workers=cores; workers=1 runs every task in this process.",
    )]
