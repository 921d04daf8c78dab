"""Smoke-suite wall time under the local and the ray executor, each with a fresh cache.

Usage (from the repository root)::

    python benchmarks/bench_executors.py                      # local, ray; --threads 2
    python benchmarks/bench_executors.py --threads 1 --repeats 2 --json timings.json

Each run is ``ropbench run --suite SUITE`` in a fresh process with a fresh cache, as a
user would type it, so the ray number includes starting (and stopping) a local Ray
instance. The script checks that both executors wrote byte-identical ``results.csv``:
a fast wrong answer must not pass for a speed-up. Run it on an otherwise idle machine;
the wall times of concurrent jobs mean little.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EXECUTORS = ("local", "ray")


def timed_run(executor: str, suite: str, threads: int, root: Path) -> tuple[float, bytes, dict]:
    """Wall seconds of one fresh run, its results.csv bytes and its manifest."""
    cache, run = root / f"cache-{executor}", root / f"run-{executor}"
    command = [sys.executable, "-m", "ropbench.cli.main", "run", "--suite", suite, "--executor", executor,
               "--cache-dir", str(cache), "--out", str(run), "--threads", str(threads), "--quiet"]
    started = time.perf_counter()
    process = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"{executor} run failed ({process.returncode}):\n{process.stderr[-3000:]}")
    manifest = json.loads((run / "manifest.json").read_text())
    return seconds, (run / "results.csv").read_bytes(), manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", default="smoke")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=1, help="fresh runs per executor (median reported)")
    parser.add_argument("--executors", nargs="+", default=list(EXECUTORS), choices=EXECUTORS)
    parser.add_argument("--json", type=Path, help="also write the timings here")
    args = parser.parse_args(argv)

    timings: dict[str, list[float]] = {name: [] for name in args.executors}
    task_seconds: dict[str, list[float]] = {name: [] for name in args.executors}
    results: dict[str, bytes] = {}
    for repeat in range(args.repeats):
        for executor in args.executors:  # interleaved, so drifting machine load hits both
            with tempfile.TemporaryDirectory(prefix="bench-executors-") as folder:
                seconds, table, manifest = timed_run(executor, args.suite, args.threads, Path(folder))
            timings[executor].append(seconds)
            task_seconds[executor].append(sum(t["seconds"] for t in manifest["tasks"]))
            if results.setdefault(executor, table) != table:
                raise SystemExit(f"{executor}: results.csv differs between repeats")
            print(f"run {repeat + 1}/{args.repeats} {executor:5s} wall {seconds:6.1f} s "
                  f"(sum of task times {task_seconds[executor][-1]:6.1f} s)", file=sys.stderr, flush=True)
    identical = len(set(results.values())) == 1

    print(f"\nsuite {args.suite}, --threads {args.threads}, fresh caches, median of {args.repeats}\n")
    print("| executor | wall time (s) | sum of task times (s) |")
    print("|---|---|---|")
    for executor in args.executors:
        print(f"| {executor} | {statistics.median(timings[executor]):.1f} | "
              f"{statistics.median(task_seconds[executor]):.1f} |")
    print(f"\nresults.csv byte-identical across executors: {identical}")
    if args.json:
        args.json.write_text(json.dumps({"suite": args.suite, "threads": args.threads, "wall_seconds": timings,
                                         "task_seconds": task_seconds, "identical": identical}, indent=2))
    return 0 if identical else 1


if __name__ == "__main__":
    raise SystemExit(main())
