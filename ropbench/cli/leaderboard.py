"""``ropbench leaderboard RUN_DIR``: print a run's leaderboard as markdown or CSV."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "leaderboard", help="print the leaderboard of a run directory",
        description="Print a run's leaderboard: exactly the leaderboard.md the run wrote, unless "
        "--rank-by asks for another ranking or --format csv for the CSV summary.")
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--format", choices=("markdown", "csv"), default="markdown")
    parser.add_argument("--rank-by", nargs="+", metavar="METRIC",
                        help="metrics that rank each table (the first present in a table is used)")
    parser.set_defaults(handler=show_leaderboard)


def show_leaderboard(args: argparse.Namespace) -> int:
    from ropbench.leaderboard import DEFAULT_RANKING, run_leaderboard_markdown
    from ropbench.results import FLOAT_FORMAT
    from ropbench.rundir import RunDir

    run = RunDir.open(args.run_dir)
    if args.format == "csv":
        run.summary.to_csv(sys.stdout, index=False, float_format=FLOAT_FORMAT, lineterminator="\n")
        return 0
    written = run.leaderboard_text()
    if written is not None and not args.rank_by:
        print(written, end="")
        return 0
    print(run_leaderboard_markdown(run.results, run.manifest, args.rank_by or DEFAULT_RANKING), end="")
    return 0
