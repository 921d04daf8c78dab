"""``ropbench list FAMILY [PATTERN]``: registered names, natural-sorted, with globs."""

from __future__ import annotations

import argparse
import fnmatch
import json

__all__ = ["register", "listing_rows"]

FAMILY_CHOICES = ("generators", "architectures", "explainers", "metrics", "executors", "reporters")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("list", help="list registered generators, architectures, explainers or metrics")
    parser.add_argument("family", choices=FAMILY_CHOICES)
    parser.add_argument("pattern", nargs="?", default="*", help="glob, e.g. 'vit_*' (default: all)")
    parser.add_argument("--params", action="store_true",
                        help="also show each plugin's parameters with their defaults (execution-only ones marked *)")
    parser.set_defaults(handler=list_names)


def _detail(spec: object) -> str:
    """The family-specific column: a metric's kind, a generator's source, controls."""
    if hasattr(spec, "kind"):
        return str(spec.kind)
    if hasattr(spec, "source"):
        return str(spec.source)
    if getattr(spec, "control", False):
        return "control"
    return ""


def _params(spec: object) -> str:
    marked = getattr(spec, "execution_params", frozenset())
    return ", ".join(f"{name}{'*' if name in marked else ''}={json.dumps(value)}"
                     for name, value in dict(getattr(spec, "params", {})).items())


def listing_rows(registry, family: str, pattern: str, with_params: bool) -> list[list[str]]:
    table = registry.table(family[:-1])
    rows = []
    for name in table:
        if not fnmatch.fnmatchcase(name, pattern):
            continue
        spec = table.specs[name]
        row = [name, spec.version, _detail(spec), table.providers[name], spec.description]
        rows.append(row + [_params(spec)] if with_params else row)
    return rows


def list_names(args: argparse.Namespace) -> int:
    from tabulate import tabulate

    from ropbench.registry import get_registry

    rows = listing_rows(get_registry(), args.family, args.pattern, args.params)
    if not rows:
        print(f"no {args.family} match {args.pattern!r}")
        return 1
    headers = ["name", "version", "kind", "plugin", "description"] + (["params"] if args.params else [])
    widths = [None, None, None, None, 60] + ([50] if args.params else [])
    print(tabulate(rows, headers=headers, tablefmt="simple", maxcolwidths=widths))
    return 0
