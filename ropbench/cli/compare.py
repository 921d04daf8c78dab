"""``ropbench compare RUN_A RUN_B``: two runs' leaderboards side by side, as markdown."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "compare", help="show two runs side by side with the change of every metric",
        description="Print a markdown table of the mean (± std over seeds) of every "
        "(generator, architecture, explainer, metric) in RUN_A and RUN_B, the change B - A, and "
        "whether B is better or worse in the metric's direction. RUN_A and RUN_B are run "
        "directories or leaderboard CSVs (e.g. leaderboards/smoke.csv). Exit 0; 2 on bad input.",
    )
    parser.add_argument("run_a", type=Path, metavar="RUN_A")
    parser.add_argument("run_b", type=Path, metavar="RUN_B")
    parser.add_argument("--metric", action="append", metavar="GLOB",
                        help="only metrics matching this glob (repeatable), e.g. 'percentile-*'")
    parser.set_defaults(handler=compare_command)


def compare_command(args: argparse.Namespace) -> int:
    from ropbench.compare import compare_summaries, comparison_markdown, load_summary, require_comparable

    a = require_comparable(load_summary(args.run_a), str(args.run_a))
    b = require_comparable(load_summary(args.run_b), str(args.run_b))
    comparison = compare_summaries(a, b, args.metric or ("*",))
    print(comparison_markdown(comparison, str(args.run_a), str(args.run_b)), end="")
    return 0
