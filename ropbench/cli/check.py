"""``ropbench check RUN_DIR --baseline FILE``: fail when a metric got worse past tolerance.

Exit codes: 0 nothing regressed; 1 a metric regressed or went missing; 2 the check could
not be made (bad input: an unreadable run or baseline, a baseline without rows, a
baseline row without a usable mean or direction, a bad tolerance). 2 wins over 1: a gate
that could not look at every baseline metric has not passed them.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

if TYPE_CHECKING:
    from ropbench.rundir import RunDir

__all__ = ["register", "check_run"]

SECTIONS = (("unchecked", "COULD NOT CHECK"), ("regressed", "REGRESSED"), ("missing", "MISSING"),
            ("improved", "improved"), ("new", "new"))


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "check", help="compare a run against a baseline leaderboard CSV (CI gate)",
        description="Compare a run's leaderboard with a baseline leaderboard.csv. A metric "
        "regresses when it moved in its bad direction by more than absolute + relative x "
        "|baseline|. Defaults: absolute 0.02, relative 0; the run's suite [tolerances] table "
        "overrides them per metric glob; --absolute/--relative override everything. Exit 0 "
        "when nothing regressed, 1 when something regressed or is missing, 2 when the check "
        "could not be made (bad input, or a baseline row without a usable mean or direction).",
    )
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--baseline", type=Path, required=True, help="a leaderboard CSV")
    parser.add_argument("--absolute", type=float, help="absolute tolerance for every metric")
    parser.add_argument("--relative", type=float, help="relative tolerance for every metric")
    parser.add_argument("--verbose", action="store_true", help="also list metrics that did not move")
    parser.set_defaults(handler=check_run)


def _suite_tolerances(run: "RunDir", metric_names: set[str]) -> dict[str, dict[str, float]]:
    """The run's suite ``[tolerances]``, checked again: runs made before suites were
    checked at load time may carry a misspelt one."""
    from ropbench.errors import RopbenchError
    from ropbench.regression import validate_tolerances
    from ropbench.rundir import MANIFEST_FILE

    suite = run.manifest.get("suite", {})
    if not isinstance(suite, Mapping):
        raise RopbenchError(f"{run.path / MANIFEST_FILE}: suite: expected a JSON object, got {suite!r}")
    return validate_tolerances(suite.get("tolerances", {}), f"{run.path / MANIFEST_FILE} (suite)", metric_names)


def _registered_metrics() -> set[str]:
    from ropbench.registry import get_registry

    return set(get_registry().metrics)


def _forced(overrides: Mapping[str, Any], absolute: float | None, relative: float | None) -> dict[str, Any]:
    from ropbench.regression import validate_tolerances

    forced = {k: v for k, v in (("absolute", absolute), ("relative", relative)) if v is not None}
    if not forced:
        return dict(overrides)
    validate_tolerances({"default": forced}, "command line (--absolute/--relative)")
    return {"default": forced, **{k: {**v, **forced} for k, v in overrides.items() if k != "default"}}


def check_run(args: argparse.Namespace) -> int:
    from ropbench.errors import RopbenchError
    from ropbench.leaderboard import load_summary
    from ropbench.regression import FAILING, compare_to_baseline
    from ropbench.rundir import RunDir

    run = RunDir.open(args.run_dir)
    if not args.baseline.is_file():
        raise RopbenchError(f"baseline {args.baseline} not found")
    current, baseline = run.summary, load_summary(args.baseline)
    names = _registered_metrics() | {str(m) for m in current["metric"]} | {str(m) for m in baseline["metric"]}
    overrides = _forced(_suite_tolerances(run, names), args.absolute, args.relative)
    movements = compare_to_baseline(current, baseline, overrides, source=str(args.baseline))
    for status, title in SECTIONS:
        chosen = [m for m in movements if m.status == status]
        if chosen:
            print(f"{title} ({len(chosen)}):")
            for movement in chosen:
                print(f"  {movement.describe()}")
    if args.verbose:
        for movement in (m for m in movements if m.status == "ok"):
            print(f"  ok {movement.describe()}")
    bad = sum(m.status in FAILING for m in movements)
    unchecked = sum(m.status == "unchecked" for m in movements)
    in_baseline = sum(m.status != "new" for m in movements)
    if unchecked:
        print(f"CANNOT CHECK: {unchecked} of {in_baseline} baseline metrics could not be checked, "
              f"{bad} of the rest regressed or missing (baseline {args.baseline})")
        return 2
    print(f"{'FAIL' if bad else 'PASS'}: {bad} of {in_baseline} baseline metrics regressed or missing "
          f"(baseline {args.baseline})")
    return 1 if bad else 0
