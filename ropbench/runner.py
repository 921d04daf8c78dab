"""Running a suite: plan, execute through an executor plugin, collect, write the run dir.

The run directory holds ``results.csv`` (tidy), ``per_image.csv``, ``manifest.json``,
``errors.log`` when anything failed, and whatever the suite's reporters write
(``leaderboard.md`` and ``leaderboard.csv`` by default).
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

from ropbench import __version__
from ropbench.cache import Cache
from ropbench.errors import RopbenchError
from ropbench.executing import ExecutionReport, ProgressSink, TaskOutcome, error_headline
from ropbench.manifest import git_state, library_versions, machine, plugin_inventory, suite_provenance
from ropbench.planning import Plan, build_plan
from ropbench.progress import ProgressDisplay, format_seconds
from ropbench.registry import Registry, activated
from ropbench.results import collect_results, write_table
from ropbench.run_checks import run_warnings
from ropbench.runner_defaults import DEFAULT_THREADS
from ropbench.stages.runtime import StageRuntime, task_record
from ropbench.specs import ExecutorSpec
from ropbench.suite import Suite
from ropbench.tasks import StageTask

__all__ = ["RunOutcome", "run_suite", "default_cache_dir", "default_run_dir", "Failure", "DEFAULT_THREADS"]



@dataclass(frozen=True)
class Failure:
    """A task that failed (``status`` failed), or could not run because one it depends
    on failed (``skipped``), or a reporter that raised (stage ``report``)."""

    stage: str
    label: str
    error: str
    status: str = "failed"

    @property
    def headline(self) -> str:
        return error_headline(self.error)


@dataclass
class RunOutcome:
    run_dir: Path
    plan: Plan
    report: ExecutionReport
    failures: list[Failure] = field(default_factory=list)
    wall_seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures and not self.report.interrupted


# Files a run writes into its directory (reporters may add more): removed before a run
# writes there, so nothing from an earlier run in the same directory survives.
OWN_FILES = ("results.csv", "per_image.csv", "manifest.json", "leaderboard.md", "leaderboard.csv",
             "report.html", "errors.log")


def default_cache_dir() -> Path:
    """``$ROPBENCH_CACHE_DIR``, else ``$XDG_CACHE_HOME/ropbench``, else ``~/.cache/ropbench``."""
    if os.environ.get("ROPBENCH_CACHE_DIR"):
        return Path(os.environ["ROPBENCH_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    return Path(base) / "ropbench"


def default_run_dir(suite: Suite) -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{suite.name}-{stamp}"


def _stage_summary(plan: Plan, report: ExecutionReport) -> dict[str, Any]:
    summary: dict[str, Any] = defaultdict(lambda: Counter())
    seconds: dict[str, float] = defaultdict(float)
    hits = misses = 0
    for task in plan.tasks:
        outcome = report.outcomes.get(task.key)
        status = outcome.status if outcome else "not run"
        summary[task.stage][status] += 1
        if outcome:
            seconds[task.stage] += outcome.seconds
            hits += outcome.cache_hits
            misses += outcome.cache_misses
    return {
        "stages": {stage: {"tasks": sum(c.values()), **dict(c), "seconds": round(seconds[stage], 3)}
                   for stage, c in summary.items()},
        "cache_hits": hits,
        "cache_misses": misses,
    }


def _print_plan(plan: Plan, suite: Suite, executor: str) -> None:
    counts = Counter(task.stage for task in plan.tasks)
    print(f"ropbench {__version__}: suite {suite.name!r} ({suite.source}); executor {executor}; "
          f"{counts['data']} data, {counts['train']} train, {counts['explain']} explain, "
          f"{counts['score']} score tasks", file=sys.stderr, flush=True)
    for label, reason in plan.unavailable.items():
        print(f"  not run: {label}: {reason}", file=sys.stderr)
    for pair in plan.unsupported:
        print(f"  not applicable: {pair.generator}/{pair.architecture} x {pair.explainer}: {pair.reason}",
              file=sys.stderr)


class ObservedProgress:
    """The progress display, plus the ``ropbench_task_finished`` hook for every task."""

    def __init__(self, display: ProgressSink, registry: Registry) -> None:
        self.display = display
        self.registry = registry

    def started(self, task: StageTask) -> None:  # type: ignore[override]
        self.display.started(task)

    def finished(self, task: StageTask, outcome: TaskOutcome) -> None:  # type: ignore[override]
        self.display.finished(task, outcome)
        self.registry.notify_task_finished(
            stage=task.stage, label=task.label, status=outcome.status,
            info={"key": task.key, "seconds": outcome.seconds, "error": error_headline(outcome.error)
                  if outcome.error else None},
        )


def _check_options(spec: ExecutorSpec, options: Mapping[str, Any]) -> None:
    unknown = sorted(set(options) - set(spec.params))
    if unknown:
        accepted = ", ".join(sorted(spec.params)) or "none"
        raise RopbenchError(f"executor {spec.name!r} takes no option {unknown[0]!r} (its options: {accepted})"
                            + ("; --address needs --executor ray" if unknown[0] == "address" else ""))


def run_suite(
    suite: Suite,
    registry: Registry,
    *,
    cache_dir: Path,
    run_dir: Path,
    executor: str = "local",
    executor_options: Mapping[str, Any] | None = None,
    threads: int = DEFAULT_THREADS,
    verbose: bool = True,
    refresh: tuple[str, ...] = (),
) -> RunOutcome:
    """Run every cell of ``suite`` and write the run directory. Never raises for a
    cell's failure: failures are returned (and written) so completed results are kept."""
    executor_spec = registry.executors.get(executor)
    _check_options(executor_spec, executor_options or {})
    started_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    started = time.perf_counter()
    plan = build_plan(suite, registry)
    _print_plan(plan, suite, executor)
    runtime = StageRuntime(str(Path(cache_dir).resolve()), threads=threads, verbose=verbose,
                           in_process_plugins=tuple(p.name for p in registry.plugins if p.source == "extra"),
                           refresh=tuple(refresh))
    import torch

    torch.set_num_threads(threads)
    progress = ObservedProgress(ProgressDisplay(plan.tasks), registry)
    try:
        with activated(registry):
            report = executor_spec.run(plan.tasks, runtime, progress,
                                       **{**executor_spec.params, **dict(executor_options or {})})
    except KeyboardInterrupt:
        report = ExecutionReport(interrupted=True)
    wall = time.perf_counter() - started

    failures = [
        Failure(task.stage, task.label, report.outcomes[task.key].error or "", report.outcomes[task.key].status)
        for task in plan.tasks
        if task.key in report.outcomes and report.outcomes[task.key].status in ("failed", "skipped")
    ]
    outcome = RunOutcome(Path(run_dir), plan, report, failures, wall)
    write_run_dir(outcome, suite, registry, Cache(cache_dir), executor=executor, threads=threads,
                  started_at=started_at)
    return outcome


def write_run_dir(outcome: RunOutcome, suite: Suite, registry: Registry, cache: Cache, *,
                  executor: str, threads: int, started_at: str) -> None:
    run_dir = outcome.run_dir
    run_dir.mkdir(parents=True, exist_ok=True)
    for stale in OWN_FILES:  # an earlier run's outputs must not outlive this run's (L05)
        (run_dir / stale).unlink(missing_ok=True)
    table, per_image = collect_results(outcome.plan, cache, suite.name)
    outcome.warnings = run_warnings(outcome.plan.tasks, table, cache)
    write_table(table, run_dir / "results.csv")
    write_table(per_image, run_dir / "per_image.csv")
    manifest = {
        "ropbench_version": __version__,
        "suite": suite.resolved(),
        "suite_file": suite_provenance(suite),
        "seeds": list(suite.seeds),
        "plugins": plugin_inventory(registry, suite),
        "libraries": library_versions(),
        "git": git_state(),
        "machine": machine(),
        "executor": executor,
        "threads": threads,
        "cache_dir": str(cache.root.resolve()),
        "started_at": started_at,
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "wall_seconds": round(outcome.wall_seconds, 3),
        "interrupted": outcome.report.interrupted,
        **_stage_summary(outcome.plan, outcome.report),
        "failures": [asdict(f) | {"error": f.headline} for f in outcome.failures],
        "warnings": outcome.warnings,
        "unsupported_pairs": [asdict(p) for p in outcome.plan.unsupported],
        "unavailable_architectures": outcome.plan.unavailable,
        "controls": {"explainers": outcome.plan.control_explainers,
                     "architectures": outcome.plan.control_architectures},
        "tasks": [_task_entry(t, outcome.report, cache) for t in outcome.plan.tasks],
    }
    (run_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n")
    for reporter in suite.reporters:
        try:
            registry.reporters.get(reporter.name).write(run_dir, table, manifest, **reporter.params)
        except Exception as error:  # results.csv and the manifest are already written
            outcome.failures.append(Failure("report", reporter.label, f"reporter {reporter.name!r} raised "
                                            f"{type(error).__name__}: {error}\n{traceback.format_exc()}"))
    if outcome.failures:
        (run_dir / "errors.log").write_text("".join(f"== {f.stage} {f.label}\n{f.error}\n" for f in outcome.failures))


def _inputs_of(task: StageTask) -> dict[str, str]:
    """The keys of every stage ``task`` reads from, by stage (data, train, explain)."""
    inputs: dict[str, str] = {}
    pending = list(task.upstream)
    while pending:
        upstream = pending.pop()
        inputs[upstream.stage] = upstream.key
        pending += upstream.upstream
    return inputs


def _task_entry(task: StageTask, report: ExecutionReport, cache: Cache) -> dict[str, Any]:
    """One task in the manifest: its stage, labels, key, how it ended and, for an entry
    reused from the cache, which ropbench version and thread count produced it."""
    outcome = report.outcomes.get(task.key)
    record = task_record(cache, task)
    return {
        "stage": task.stage, "label": task.label, "key": task.key, **asdict(task.cell),
        "inputs": _inputs_of(task),
        "status": outcome.status if outcome else "not run",
        "seconds": round(outcome.seconds, 3) if outcome else 0.0,
        "produced_by": record.get("produced_by") if record else None,
        "info": record.get("info") if record else None,
    }


def print_outcome(outcome: RunOutcome) -> None:
    """The end-of-run summary: where results are, and every failed cell by name."""
    print(f"run directory: {outcome.run_dir} (wall {format_seconds(outcome.wall_seconds)})",
          file=sys.stderr)
    if outcome.report.interrupted:
        print("interrupted: finished stages are cached; run the same command again to resume",
              file=sys.stderr)
    for warning in outcome.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    failed = [f for f in outcome.failures if f.status != "skipped"]
    blocked = [f for f in outcome.failures if f.status == "skipped"]
    if outcome.failures:
        more = f", {len(blocked)} more could not run" if blocked else ""
        print(f"{len(failed)} task(s) failed{more} (details in {outcome.run_dir / 'errors.log'}):",
              file=sys.stderr)
        for failure in failed + blocked:
            print(f"  {failure.stage} {failure.label}: {failure.headline}", file=sys.stderr)
