"""The default executor: each task in this process, in plan order."""

from __future__ import annotations

from typing import Any, Sequence

from ropbench.executing import (
    ExecutionReport,
    ProgressSink,
    Task,
    TaskRuntime,
    blocked_by,
    skipped_outcome,
)

__all__ = ["run_locally"]


def run_locally(tasks: Sequence[Task], runtime: TaskRuntime, progress: ProgressSink,
                **options: Any) -> ExecutionReport:
    """Run ``tasks`` in order; a failure skips only the tasks that depend on it.

    Ctrl-C stops after recording what finished; the cache keeps every finished stage.
    """
    if options:
        raise TypeError(f"the local executor takes no options, got {sorted(options)}")
    report = ExecutionReport()
    by_key = {task.key: task for task in tasks}
    for task in tasks:
        blocker = blocked_by(task, report.outcomes)
        if blocker is not None:
            outcome = skipped_outcome(task, by_key.get(blocker), blocker)
        else:
            progress.started(task)
            try:
                outcome = runtime.execute(task)
            except KeyboardInterrupt:
                report.interrupted = True
                return report
        report.outcomes[task.key] = outcome
        progress.finished(task, outcome)
    return report
