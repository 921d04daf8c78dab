"""Wall time of the smoke suite: a fresh run, then a rerun that must be all cache hits.

    python benchmarks/bench_smoke.py [--threads 2] [--executor local]

Targets (issue 2): fresh run under 2 minutes, rerun under 10 seconds, on a 2-core CPU.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed_run(cache: Path, out: Path, threads: int, executor: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "ropbench.cli.main", "run", "--suite", "smoke", "--cache-dir",
                    str(cache), "--out", str(out), "--threads", str(threads), "--quiet",
                    "--executor", executor], check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--executor", default="local")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        cache = Path(root) / "cache"
        fresh = timed_run(cache, Path(root) / "fresh", args.threads, args.executor)
        rerun = timed_run(cache, Path(root) / "rerun", args.threads, args.executor)
        manifest = json.loads((Path(root) / "rerun" / "manifest.json").read_text())
        statuses = {t["status"] for t in manifest["tasks"]}
        same = (Path(root) / "fresh" / "results.csv").read_bytes() == (Path(root) / "rerun" / "results.csv").read_bytes()
    print(f"smoke fresh run: {fresh:.1f} s (target < 120 s)")
    print(f"smoke rerun:     {rerun:.1f} s (target < 10 s); task statuses {sorted(statuses)}; identical CSV: {same}")


if __name__ == "__main__":
    main()
