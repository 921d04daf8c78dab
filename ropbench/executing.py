"""The contract between the runner and executor plugins.

The runner turns a suite into tasks (one per data, train, explain or score stage,
identified by its cache key) and hands them, topologically ordered, to an
executor together with a picklable :class:`TaskRuntime` that knows how to do one task.
An executor decides where and in which order tasks run; it never decides *what* a task
computes, so every executor gives identical results.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Mapping, Protocol, Sequence

__all__ = [
    "Stage",
    "TaskStatus",
    "Task",
    "TaskOutcome",
    "TaskRuntime",
    "ProgressSink",
    "ExecutionReport",
    "blocked_by",
    "skipped_outcome",
    "order_check",
    "error_headline",
    "WorkerPool",
    "run_when_ready",
]

Stage = Literal["data", "train", "explain", "score"]
TaskStatus = Literal["done", "cached", "failed", "skipped"]


class Task(Protocol):
    """One stage of one cell, as an executor sees it (:mod:`ropbench.tasks` has the
    typed data, train, explain and score tasks that implement it).

    :param key: content address of the task's output (sha256 hex); unique in a plan.
    :param stage: ``data``, ``train``, ``explain`` or ``score``.
    :param label: human-readable cell name for progress and errors.
    :param depends_on: keys of the tasks whose outputs this one reads.
    :param resources: requested resources, e.g. ``{"cpu": 1, "gpu": 0}``.
    """

    @property
    def key(self) -> str: ...

    @property
    def stage(self) -> Stage: ...

    @property
    def label(self) -> str: ...

    @property
    def depends_on(self) -> tuple[str, ...]: ...

    @property
    def resources(self) -> Mapping[str, float]: ...


@dataclass(frozen=True)
class TaskOutcome:
    """How a task ended. ``cached`` means its output was already in the cache."""

    key: str
    status: TaskStatus
    seconds: float = 0.0
    error: str | None = None
    # Per-entry cache hits and misses inside the task (metrics, heatmaps, ...).
    cache_hits: int = 0
    cache_misses: int = 0


def error_headline(error: str | None) -> str:
    """The first line of an error text (the exception), for one-line summaries."""
    return error.splitlines()[0] if error else "unknown error"


class TaskRuntime(Protocol):
    """Does one task; picklable. Never raises for a task's own error: returns ``failed``."""

    def execute(self, task: Task) -> TaskOutcome: ...


class ProgressSink(Protocol):
    """Where executors report progress (the runner draws stage, cell and ETA)."""

    def started(self, task: Task) -> None: ...

    def finished(self, task: Task, outcome: TaskOutcome) -> None: ...


@dataclass
class ExecutionReport:
    """Every task's outcome; ``interrupted`` when the user stopped the run."""

    outcomes: dict[str, TaskOutcome] = field(default_factory=dict)
    interrupted: bool = False


def blocked_by(task: Task, outcomes: Mapping[str, TaskOutcome]) -> str | None:
    """The key of a dependency that failed or was skipped, if any: the task cannot run."""
    for key in task.depends_on:
        outcome = outcomes.get(key)
        if outcome is not None and outcome.status in ("failed", "skipped"):
            return key
    return None


def skipped_outcome(task: Task, blocker: Task | None, blocker_key: str) -> TaskOutcome:
    """The outcome of a task that cannot run because ``blocker`` failed."""
    label = blocker.label if blocker is not None else blocker_key[:12]
    stage = blocker.stage if blocker is not None else "upstream"
    return TaskOutcome(task.key, "skipped", error=f"not run: its {stage} stage {label} failed")


def order_check(tasks: Sequence[Task]) -> None:
    """Raise ValueError unless every dependency precedes its dependant."""
    seen: set[str] = set()
    for task in tasks:
        missing = [k for k in task.depends_on if k not in seen]
        if missing:
            raise ValueError(f"task {task.label} depends on {missing} which do not precede it")
        seen.add(task.key)


class WorkerPool(Protocol):
    """Where :func:`run_when_ready` sends tasks: a process pool, a Ray cluster, ...

    ``capacity`` is how many tasks may run at once; ``submit`` starts a task and returns
    a handle; ``wait`` returns the handles that finished within ``timeout`` seconds
    (possibly none); ``outcome`` reads a finished task's outcome (a lost worker becomes a
    ``failed`` outcome, never an exception); ``cancel`` stops what is still running.
    """

    capacity: int

    def submit(self, task: Task) -> Any: ...

    def wait(self, handles: list[Any], timeout: float) -> list[Any]: ...

    def outcome(self, handle: Any, task: Task) -> TaskOutcome: ...

    def cancel(self, handles: list[Any]) -> None: ...


def run_when_ready(tasks: Sequence[Task], pool: WorkerPool, progress: ProgressSink, *,
                   poll_seconds: float = 0.5) -> ExecutionReport:
    """Submit each task once every task it depends on has finished; a failure skips only
    its dependants. Ctrl-C cancels what runs and returns with ``interrupted``.

    Progress is reported here, in the driving process, in completion order.
    """
    order_check(tasks)  # a dependency outside the plan would leave its dependants waiting forever
    report = ExecutionReport()
    by_key = {task.key: task for task in tasks}
    waiting = list(tasks)  # plan order: a dependency precedes its dependants
    running: dict[Any, Task] = {}

    def finish(task: Task, outcome: TaskOutcome) -> None:
        report.outcomes[task.key] = outcome
        progress.finished(task, outcome)

    try:
        while waiting or running:
            still_waiting = []
            for task in waiting:
                blocker = blocked_by(task, report.outcomes)
                if blocker is not None:
                    finish(task, skipped_outcome(task, by_key.get(blocker), blocker))
                elif len(running) < pool.capacity and all(key in report.outcomes for key in task.depends_on):
                    progress.started(task)
                    running[pool.submit(task)] = task
                else:
                    still_waiting.append(task)
            waiting = still_waiting
            if not running:
                continue  # only skips happened; the next pass settles their dependants
            for handle in pool.wait(list(running), poll_seconds):
                task = running.pop(handle)
                finish(task, pool.outcome(handle, task))
    except KeyboardInterrupt:
        pool.cancel(list(running))
        report.interrupted = True
    return report
