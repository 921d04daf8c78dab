"""``ropbench leaderboard RUN_DIR``: print a run's leaderboard as markdown or CSV."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("leaderboard", help="print the leaderboard of a run directory")
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--format", choices=("markdown", "csv"), default="markdown")
    parser.add_argument("--rank-by", nargs="+", metavar="METRIC",
                        help="metrics that rank each table (the first present in a table is used)")
    parser.set_defaults(handler=show_leaderboard)


def show_leaderboard(args: argparse.Namespace) -> int:
    from ropbench.errors import RopbenchError
    from ropbench.leaderboard import leaderboard_markdown, summarise
    from ropbench.results import FLOAT_FORMAT, read_table
    from ropbench_plugins.reporters.leaderboards import DEFAULT_RANKING

    results = args.run_dir / "results.csv"
    if not results.is_file():
        raise RopbenchError(f"{args.run_dir} is not a run directory: {results} not found")
    summary = summarise(read_table(results))
    if args.format == "csv":
        summary.to_csv(sys.stdout, index=False, float_format=FLOAT_FORMAT, lineterminator="\n")
        return 0
    manifest_path = args.run_dir / "manifest.json"
    name = json.loads(manifest_path.read_text())["suite"]["name"] if manifest_path.is_file() else args.run_dir.name
    print(leaderboard_markdown(summary, title=f"ropbench leaderboard: {name}",
                               rank_by=args.rank_by or DEFAULT_RANKING), end="")
    return 0
