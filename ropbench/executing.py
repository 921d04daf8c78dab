"""The contract between the runner and executor plugins.

The runner turns a suite into :class:`Task` objects (one per data, train or explain
stage, identified by its cache key) and hands them, topologically ordered, to an
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
    "error_headline",
]

Stage = Literal["data", "train", "explain"]
TaskStatus = Literal["done", "cached", "failed", "skipped"]


@dataclass(frozen=True)
class Task:
    """One stage of one cell.

    :param key: content address of the task's output (sha256 hex); unique in a plan.
    :param stage: ``data``, ``train`` or ``explain``.
    :param label: human-readable cell name for progress and errors.
    :param depends_on: keys of the tasks whose outputs this one reads.
    :param payload: JSON-able description of what to compute (what the key hashes).
    :param resources: requested resources, e.g. ``{"cpu": 1, "gpu": 0}``.
    """

    key: str
    stage: Stage
    label: str
    depends_on: tuple[str, ...]
    payload: Mapping[str, Any]
    resources: Mapping[str, float] = field(default_factory=lambda: {"cpu": 1.0, "gpu": 0.0})


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
