"""Entry point of the ``ropbench`` command.

Each subcommand lives in its own module exposing ``register(subparsers)``, which adds
its parser and sets ``handler`` (``handler(args) -> exit code``). Modules are imported
only when the CLI starts, and torch only when a command needs it, so ``--help`` is fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

from ropbench import __version__
from ropbench.errors import RopbenchError

__all__ = ["main", "build_parser", "COMMAND_MODULES"]

COMMAND_MODULES: tuple[str, ...] = (
    "ropbench.cli.run",
    "ropbench.cli.generate",
    "ropbench.cli.plugins",
    "ropbench.cli.listing",
    "ropbench.cli.leaderboard",
    "ropbench.cli.check",
    "ropbench.cli.compare",
    "ropbench.cli.report",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ropbench",
        description="Benchmark whether image classifiers' heatmaps point at the tortuous "
        "vessels of retinopathy of prematurity.",
    )
    parser.add_argument("--version", action="version", version=f"ropbench {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name == module_name:  # a command not written yet
                continue
            raise
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        return int(args.handler(args) or 0)
    except RopbenchError as error:
        print(f"ropbench: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ropbench: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
