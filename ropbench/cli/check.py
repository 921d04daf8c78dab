"""``ropbench check RUN_DIR --baseline FILE``: fail when a metric got worse past tolerance.

Exit codes: 0 nothing regressed; 1 a metric regressed or went missing; 2 bad input.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "check", help="compare a run against a baseline leaderboard CSV (CI gate)",
        description="Compare a run's leaderboard with a baseline leaderboard.csv. A metric "
        "regresses when it moved in its bad direction by more than absolute + relative x "
        "|baseline|. Defaults: absolute 0.02, relative 0; the run's suite [tolerances] table "
        "overrides them per metric glob; --absolute/--relative override everything. Exit 0 "
        "when nothing regressed, 1 when something regressed or is missing, 2 on bad input.",
    )
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--baseline", type=Path, required=True, help="a leaderboard CSV")
    parser.add_argument("--absolute", type=float, help="absolute tolerance for every metric")
    parser.add_argument("--relative", type=float, help="relative tolerance for every metric")
    parser.add_argument("--verbose", action="store_true", help="also list metrics that did not move")
    parser.set_defaults(handler=check_run)


def check_run(args: argparse.Namespace) -> int:
    from ropbench.errors import RopbenchError
    from ropbench.leaderboard import load_summary
    from ropbench.regression import compare_to_baseline

    if not args.run_dir.is_dir():
        raise RopbenchError(f"{args.run_dir} is not a run directory")
    if not args.baseline.is_file():
        raise RopbenchError(f"baseline {args.baseline} not found")
    current, baseline = load_summary(args.run_dir), load_summary(args.baseline)
    overrides = {}
    manifest_path = args.run_dir / "manifest.json"
    if manifest_path.is_file():
        overrides = dict(json.loads(manifest_path.read_text())["suite"].get("tolerances", {}))
    if args.absolute is not None or args.relative is not None:
        forced = {k: v for k, v in (("absolute", args.absolute), ("relative", args.relative)) if v is not None}
        overrides = {"default": forced, **{k: {**v, **forced} for k, v in overrides.items() if k != "default"}}
    movements = compare_to_baseline(current, baseline, overrides)
    bad = [m for m in movements if m.status in ("regressed", "missing")]
    for status, title in (("regressed", "REGRESSED"), ("missing", "MISSING"), ("improved", "improved"),
                          ("new", "new")):
        chosen = [m for m in movements if m.status == status]
        if chosen:
            print(f"{title} ({len(chosen)}):")
            for movement in chosen:
                print(f"  {movement.describe()}")
    if args.verbose:
        for movement in (m for m in movements if m.status == "ok"):
            print(f"  ok {movement.describe()}")
    checked = sum(1 for m in movements if m.status != "new")
    print(f"{'FAIL' if bad else 'PASS'}: {len(bad)} of {checked} baseline metrics regressed or missing "
          f"(baseline {args.baseline})")
    return 1 if bad else 0
