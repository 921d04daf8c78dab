"""``ropbench report RUN_DIR [--out FILE]``: write the run's self-contained HTML report."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report", help="write a self-contained HTML report of a run directory",
        description="Write one HTML file (CSS, pictures and charts inline; nothing from the "
        "network): leaderboards, the original study's percentile table, precision / recall "
        "against threshold, a heatmap gallery from the run's cache, confusion matrices and "
        "the manifest. Without the cache the tables still render and the gallery says why not.",
    )
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--out", type=Path, help="the HTML file to write (default RUN_DIR/report.html)")
    parser.add_argument("--rank-by", nargs="+", metavar="METRIC",
                        help="metrics that rank each table (the first present in a table is used)")
    parser.set_defaults(handler=report_command)


def report_command(args: argparse.Namespace) -> int:
    from ropbench.report import write_report

    path = write_report(args.run_dir, args.out, rank_by=args.rank_by or ())
    print(path)
    return 0
