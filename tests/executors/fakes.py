"""Picklable stand-ins for the stage runtime: tasks that sleep, fail, crash or record.

Ray workers receive these by value (see ``ship_by_value``), so they need not import
the test package.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from ropbench.executing import TaskOutcome


@dataclass(frozen=True)
class FakeTask:
    """What an executor sees of a task (the :class:`ropbench.executing.Task` protocol)."""

    key: str
    stage: str
    label: str
    depends_on: tuple[str, ...]
    resources: Mapping[str, float]


def make_task(key: str, *depends_on: str, stage: str = "train",
              resources: Mapping[str, float] | None = None) -> FakeTask:
    """A task that the fake runtimes script by its key."""
    return FakeTask(key, stage, f"cell-{key}", tuple(depends_on), dict(resources or {"cpu": 1.0, "gpu": 0.0}))


@dataclass(frozen=True)
class ScriptedRuntime:
    """Runs each task as scripted by its key, leaving a trace of every attempt in ``log_dir``.

    Keys containing ``fail`` return ``failed``; ``raise`` raises out of ``execute``;
    ``crash-once`` kills its worker process on the first attempt; ``crash`` always
    does; ``slow`` sleeps ``slow_seconds``; ``report`` returns its PID,
    ``$CUDA_VISIBLE_DEVICES`` and ``$ROPBENCH_FAKE_PROBE`` as JSON in ``error``.
    """

    log_dir: str
    slow_seconds: float = 30.0
    threads: int = 1

    def attempts(self, key: str) -> int:
        return len(list(Path(self.log_dir).glob(f"{key}.attempt-*")))

    def execute(self, task: FakeTask) -> TaskOutcome:
        attempt = self.attempts(task.key) + 1
        (Path(self.log_dir) / f"{task.key}.attempt-{attempt}").write_text(str(os.getpid()))
        if "crash-once" in task.key and attempt == 1 or task.key.startswith("crash-always"):
            os._exit(1)  # what a lost worker looks like to Ray
        if "slow" in task.key:
            time.sleep(self.slow_seconds)
        if "raise" in task.key:
            raise RuntimeError("escaped the runtime")
        if "fail" in task.key:
            return TaskOutcome(task.key, "failed", error="ValueError: scripted failure")
        if "report" in task.key:  # what the task saw, through the one free-text field
            seen = {"pid": os.getpid(), "cuda": os.environ.get("CUDA_VISIBLE_DEVICES"),
                    "probe": os.environ.get("ROPBENCH_FAKE_PROBE")}
            return TaskOutcome(task.key, "done", error=json.dumps(seen))
        return TaskOutcome(task.key, "done", 0.01)


class RecordingProgress:
    """A ProgressSink that records calls and can stop the run like Ctrl-C would."""

    def __init__(self, interrupt_after: int | None = None) -> None:
        self.events: list[tuple[str, str]] = []
        self.interrupt_after = interrupt_after

    def started(self, task: FakeTask) -> None:
        self.events.append(("started", task.key))

    def finished(self, task: FakeTask, outcome: TaskOutcome) -> None:
        self.events.append(("finished", task.key))
        finished = sum(1 for kind, _ in self.events if kind == "finished")
        if self.interrupt_after is not None and finished >= self.interrupt_after:
            raise KeyboardInterrupt
