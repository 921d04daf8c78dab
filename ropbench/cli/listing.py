"""``ropbench list FAMILY [PATTERN]``: registered names, natural-sorted, with globs."""

from __future__ import annotations

import argparse
import fnmatch

__all__ = ["register"]

FAMILY_CHOICES = ("generators", "architectures", "explainers", "metrics", "executors", "reporters")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("list", help="list registered generators, architectures, explainers or metrics")
    parser.add_argument("family", choices=FAMILY_CHOICES)
    parser.add_argument("pattern", nargs="?", default="*", help="glob, e.g. 'vit_*' (default: all)")
    parser.set_defaults(handler=list_names)


def list_names(args: argparse.Namespace) -> int:
    from tabulate import tabulate

    from ropbench.registry import get_registry

    table = get_registry().table(args.family[:-1])
    rows = []
    for name in table:
        if not fnmatch.fnmatchcase(name, args.pattern):
            continue
        spec = table.specs[name]
        extra = getattr(spec, "family", None) or getattr(spec, "kind", None) or ""
        rows.append([name, spec.version, extra, table.providers[name], spec.description])
    if not rows:
        print(f"no {args.family} match {args.pattern!r}")
        return 1
    print(tabulate(rows, headers=["name", "version", "kind", "plugin", "description"], tablefmt="simple",
                   maxcolwidths=[None, None, None, None, 70]))
    return 0
