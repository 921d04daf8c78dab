"""``ropbench run``: run a suite into a run directory (cached, resumable)."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["register"]

DEFAULT_SUITE = "quick"


def register(subparsers: argparse._SubParsersAction) -> None:
    from ropbench.shipped_suites import shipped_suites  # light: no torch at --help time
    parser = subparsers.add_parser(
        "run", help="run a suite: generate, train, explain, score, write leaderboards",
        description="Run every cell of a suite. Finished stages are cached by content, so a "
        "rerun recomputes nothing and an interrupted run resumes where it stopped. Exits 1 "
        "when any cell failed (the others still run and are written).",
    )
    parser.add_argument("--suite", default=DEFAULT_SUITE,
                        help=f"a shipped suite name ({', '.join(sorted(shipped_suites()))}) or a TOML path "
                        f"(default: {DEFAULT_SUITE})")
    parser.add_argument("--generator", nargs="+", metavar="GLOB", help="only these generators (labels, globs)")
    parser.add_argument("--arch", nargs="+", metavar="GLOB", help="only these architectures")
    parser.add_argument("--explainer", nargs="+", metavar="GLOB", help="only these explainers")
    parser.add_argument("--seeds", nargs="+", type=int, metavar="SEED", help="run these seeds instead")
    parser.add_argument("--cache-dir", type=Path, help="stage cache (default: $ROPBENCH_CACHE_DIR or ~/.cache/ropbench)")
    parser.add_argument("--out", type=Path, help="run directory (default: runs/<suite>-<UTC time>)")
    parser.add_argument("--executor", default="local", help="executor plugin (default: local)")
    parser.add_argument("--address", help="ray executor: address of an existing cluster")
    parser.add_argument("--threads", type=int, default=0,
                        help="torch CPU threads (default: torch's choice; fix it for bit-identical reruns across machines)")
    parser.add_argument("--quiet", action="store_true", help="no per-epoch / per-batch progress lines")
    parser.set_defaults(handler=run_command)


def run_command(args: argparse.Namespace) -> int:
    from ropbench.registry import get_registry
    from ropbench.runner import default_cache_dir, default_run_dir, print_outcome, run_suite
    from ropbench.suite import load_suite, narrow

    registry = get_registry()
    suite = narrow(load_suite(args.suite, registry), generators=args.generator,
                   architectures=args.arch, explainers=args.explainer, seeds=args.seeds)
    options = {"address": args.address} if args.address else {}
    outcome = run_suite(
        suite, registry,
        cache_dir=args.cache_dir or default_cache_dir(),
        run_dir=args.out or default_run_dir(suite),
        executor=args.executor, executor_options=options,
        threads=args.threads, verbose=not args.quiet,
    )
    print_outcome(outcome)
    if outcome.report.interrupted:
        return 130
    return 0 if outcome.ok else 1
