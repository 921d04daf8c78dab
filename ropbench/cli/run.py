"""``ropbench run``: run a suite into a run directory (cached, resumable)."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["register"]

DEFAULT_SUITE = "quick"


def register(subparsers: argparse._SubParsersAction) -> None:
    from ropbench.runner_defaults import DEFAULT_THREADS
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
    parser.add_argument("--option", action="append", default=[], metavar="NAME=VALUE",
                        help="an executor option (see `ropbench list executors --params`); repeatable")
    parser.add_argument("--address", help="ray executor: address of an existing cluster (= --option address=...)")
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS,
                        help=f"torch CPU threads per task (default {DEFAULT_THREADS}: every executor computes "
                        "the same bits; results are byte-identical for the same thread count)")
    parser.add_argument("--refresh", nargs="+", default=[], metavar="GLOB",
                        help="recompute the tasks whose label matches (e.g. '*/my-map', or 'score:*' for every "
                        "score), even when cached: for developing a plugin without bumping its version")
    parser.add_argument("--quiet", action="store_true", help="no per-epoch / per-batch progress lines")
    parser.set_defaults(handler=run_command)


def _options(args: argparse.Namespace) -> dict[str, object]:
    from ropbench.cli.values import parse_assignment

    options = dict(parse_assignment(text, "--option") for text in args.option)
    if args.address:
        options["address"] = args.address
    return options


def _stop_on_sigterm() -> None:
    """SIGTERM (timeout, CI runners, Slurm) ends a run like Ctrl-C: finished stages are
    written and the exit status says the run was interrupted."""
    import signal

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def run_command(args: argparse.Namespace) -> int:
    from ropbench.errors import RopbenchError
    from ropbench.registry import get_registry
    from ropbench.runner import default_cache_dir, default_run_dir, print_outcome, run_suite
    from ropbench.suite import load_suite, narrow

    if args.threads < 1:
        raise RopbenchError(f"--threads must be at least 1, got {args.threads}")
    registry = get_registry()
    suite = narrow(load_suite(args.suite, registry), generators=args.generator,
                   architectures=args.arch, explainers=args.explainer, seeds=args.seeds)
    options = _options(args)
    out = args.out or default_run_dir(suite)
    if out.exists() and not out.is_dir():
        raise RopbenchError(f"--out {out} exists and is not a directory")
    _stop_on_sigterm()
    outcome = run_suite(
        suite, registry,
        cache_dir=args.cache_dir or default_cache_dir(),
        run_dir=out,
        executor=args.executor, executor_options=options,
        threads=args.threads, verbose=not args.quiet, refresh=tuple(args.refresh),
    )
    print_outcome(outcome)
    if outcome.report.interrupted:
        return 130
    return 0 if outcome.ok else 1
