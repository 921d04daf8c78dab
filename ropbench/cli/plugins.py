"""``ropbench plugins list``: every plugin, its version, source, hooks and what it provides."""

from __future__ import annotations

import argparse
import json

__all__ = ["register", "plugin_rows"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("plugins", help="list loaded plugins")
    actions = parser.add_subparsers(dest="plugins_command", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="list plugins with version, source, hooks and names provided")
    listing.add_argument("--all", action="store_true", help="also list what each plugin provides")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(handler=list_plugins)


def plugin_rows(registry, with_provides: bool) -> list[dict]:
    from ropbench.registry import FAMILIES

    rows = []
    for plugin in registry.plugins:
        row = {"name": plugin.name, "version": plugin.version, "source": plugin.source,
               "hooks": registry.hooks_of(plugin.name)}
        if with_provides:
            row["provides"] = {
                family + "s": sorted(n for n, p in registry.table(family).providers.items() if p == plugin.name)
                for family in FAMILIES
            }
            row["provides"] = {k: v for k, v in row["provides"].items() if v}
        rows.append(row)
    return rows


def list_plugins(args: argparse.Namespace) -> int:
    from tabulate import tabulate

    from ropbench.registry import get_registry

    rows = plugin_rows(get_registry(), args.all)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    table = []
    for row in rows:
        provided = "; ".join(f"{k}: {', '.join(v)}" for k, v in row.get("provides", {}).items())
        table.append([row["name"], row["version"], row["source"], ", ".join(row["hooks"])]
                     + ([provided] if args.all else []))
    headers = ["plugin", "version", "source", "hooks"] + (["provides"] if args.all else [])
    print(tabulate(table, headers=headers, tablefmt="simple", maxcolwidths=[None, None, 40, 50, 60][: len(headers)]))
    return 0
