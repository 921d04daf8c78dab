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
from ropbench.executing import ExecutionReport, error_headline
from ropbench.manifest import git_state, library_versions, machine, plugin_inventory, suite_provenance
from ropbench.planning import Plan, build_plan
from ropbench.progress import ProgressDisplay, format_seconds
from ropbench.registry import Registry
from ropbench.results import collect_results, write_table
from ropbench.stages.runtime import StageRuntime
from ropbench.suite import Suite

__all__ = ["RunOutcome", "run_suite", "default_cache_dir", "default_run_dir", "Failure"]


@dataclass(frozen=True)
class Failure:
    stage: str
    label: str
    error: str

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

    @property
    def ok(self) -> bool:
        return not self.failures and not self.report.interrupted


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
          f"{counts['data']} data, {counts['train']} train, {counts['explain']} explain tasks",
          file=sys.stderr, flush=True)
    for pair in plan.skipped:
        print(f"  skipped pair: {pair.generator}/{pair.architecture} x {pair.explainer}: {pair.reason}",
              file=sys.stderr)


def run_suite(
    suite: Suite,
    registry: Registry,
    *,
    cache_dir: Path,
    run_dir: Path,
    executor: str = "local",
    executor_options: Mapping[str, Any] | None = None,
    threads: int = 0,
    verbose: bool = True,
) -> RunOutcome:
    """Run every cell of ``suite`` and write the run directory. Never raises for a
    cell's failure: failures are returned (and written) so completed results are kept."""
    executor_spec = registry.executors.get(executor)
    started_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    started = time.perf_counter()
    plan = build_plan(suite, registry)
    _print_plan(plan, suite, executor)
    runtime = StageRuntime(str(Path(cache_dir).resolve()), threads=threads, verbose=verbose)
    if threads:
        import torch

        torch.set_num_threads(threads)
    progress = ProgressDisplay(plan.tasks)
    try:
        report = executor_spec.run(plan.tasks, runtime, progress, **dict(executor_options or {}))
    except KeyboardInterrupt:
        report = ExecutionReport(interrupted=True)
    wall = time.perf_counter() - started

    failures = [
        Failure(task.stage, task.label, report.outcomes[task.key].error or "")
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
    table, per_image, infos = collect_results(outcome.plan, cache, suite.name)
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
        "threads": threads or None,
        "cache_dir": str(cache.root.resolve()),
        "started_at": started_at,
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "wall_seconds": round(outcome.wall_seconds, 3),
        "interrupted": outcome.report.interrupted,
        **_stage_summary(outcome.plan, outcome.report),
        "failures": [asdict(f) | {"error": f.headline} for f in outcome.failures],
        "skipped_pairs": [asdict(p) for p in outcome.plan.skipped],
        "tasks": [
            {"stage": t.stage, "label": t.label, "key": t.key,
             "status": outcome.report.outcomes[t.key].status if t.key in outcome.report.outcomes else "not run",
             "seconds": round(outcome.report.outcomes[t.key].seconds, 3) if t.key in outcome.report.outcomes else 0.0}
            for t in outcome.plan.tasks
        ],
        "cells": infos,
    }
    (run_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n")
    for name in suite.reporters:
        try:
            registry.reporters.get(name).write(run_dir, table, manifest)
        except Exception as error:  # results.csv and the manifest are already written
            outcome.failures.append(Failure("report", name, f"reporter {name!r} raised "
                                            f"{type(error).__name__}: {error}\n{traceback.format_exc()}"))
    errors_log = run_dir / "errors.log"
    if outcome.failures:
        errors_log.write_text("".join(f"== {f.stage} {f.label}\n{f.error}\n" for f in outcome.failures))
    elif errors_log.exists():
        errors_log.unlink()


def print_outcome(outcome: RunOutcome) -> None:
    """The end-of-run summary: where results are, and every failed cell by name."""
    print(f"run directory: {outcome.run_dir} (wall {format_seconds(outcome.wall_seconds)})",
          file=sys.stderr)
    if outcome.report.interrupted:
        print("interrupted: finished stages are cached; run the same command again to resume",
              file=sys.stderr)
    if outcome.failures:
        print(f"{len(outcome.failures)} task(s) failed or could not run (details in "
              f"{outcome.run_dir / 'errors.log'}):", file=sys.stderr)
        for failure in outcome.failures:
            print(f"  {failure.stage} {failure.label}: {failure.headline}", file=sys.stderr)
