"""Checking plugin parameters against a spec's declared defaults (suites and the CLI)."""

from __future__ import annotations

from typing import Any, Mapping

__all__ = ["param_type_error"]

_JSON_TYPES = {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list",
               dict: "a table"}


def param_type_error(name: str, value: Any, defaults: Mapping[str, Any]) -> str | None:
    """What is wrong with ``value`` for parameter ``name``, or None. A parameter must have
    its default's type (an integer passes for a number; a None default takes anything)."""
    default = defaults.get(name)
    if default is None:
        return None
    expected = type(default)
    ok = (isinstance(value, expected) and not (expected is int and isinstance(value, bool))
          or expected is float and isinstance(value, int) and not isinstance(value, bool))
    if ok:
        return None
    return f"{_JSON_TYPES.get(expected, expected.__name__)} like the default {default!r}"
