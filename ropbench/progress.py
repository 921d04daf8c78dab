"""Progress of a run on stderr: stage, cell, how long each took and an ETA."""

from __future__ import annotations

import sys
import time
from collections import defaultdict
from typing import Sequence, TextIO

from ropbench.executing import Task, TaskOutcome, error_headline

__all__ = ["ProgressDisplay", "format_seconds"]


def format_seconds(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, rest = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes}m{rest:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


class ProgressDisplay:
    """Implements :class:`ropbench.executing.ProgressSink` for a terminal or a log.

    The ETA assumes the remaining tasks of a stage take as long as the finished ones of
    that stage did (cache hits excluded); stages with none finished yet count as the
    mean of all computed tasks.
    """

    def __init__(self, tasks: Sequence[Task], stream: TextIO = sys.stderr) -> None:
        self.stream = stream
        self.total = len(tasks)
        self.remaining = {task.key: task.stage for task in tasks}
        self.durations: dict[str, list[float]] = defaultdict(list)
        self.finished_count = 0
        self.started_at = time.perf_counter()

    def _eta(self) -> float | None:
        computed = [d for ds in self.durations.values() for d in ds]
        if not computed:
            return None
        overall = sum(computed) / len(computed)
        estimate = 0.0
        for stage in self.remaining.values():
            stage_durations = self.durations.get(stage)
            estimate += sum(stage_durations) / len(stage_durations) if stage_durations else overall
        return estimate

    def started(self, task: Task) -> None:
        print(f"[{self.finished_count + 1}/{self.total}] {task.stage:7s} {task.label} ...",
              file=self.stream, flush=True)

    def finished(self, task: Task, outcome: TaskOutcome) -> None:
        self.finished_count += 1
        self.remaining.pop(task.key, None)
        if outcome.status == "done":
            self.durations[task.stage].append(outcome.seconds)
        eta = self._eta()
        eta_text = f", ETA {format_seconds(eta)}" if eta is not None and self.remaining else ""
        headline = error_headline(outcome.error)
        if outcome.status == "done":
            detail = f"done in {format_seconds(outcome.seconds)}"
        elif outcome.status == "cached":
            detail = "cached"
        elif outcome.status == "failed":
            detail = f"FAILED: {headline}"
        else:
            detail = f"skipped: {headline}"
        print(f"[{self.finished_count}/{self.total}] {task.stage:7s} {task.label} {detail}"
              f" (elapsed {format_seconds(time.perf_counter() - self.started_at)}{eta_text})",
              file=self.stream, flush=True)
