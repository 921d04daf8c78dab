"""The kits' rule for trying an execution parameter at two values."""

from __future__ import annotations

from typing import Any, Mapping

__all__ = ["execution_value_pair"]


def execution_value_pair(name: str, value: Any, overrides: Mapping[str, tuple[Any, Any]], outputs: str) -> tuple[Any, Any]:
    """The two values of execution parameter ``name`` whose ``outputs`` must agree: the
    subclass's ``execution_param_values`` entry, else the default and 1 (one item per
    batch) for an integer default above 1 (2 for a default of 1)."""
    if name in overrides:
        return overrides[name]
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value, (1 if value > 1 else 2)
    raise AssertionError(
        f"execution param {name!r} = {value!r}: set execution_param_values = {{{name!r}: (first, second)}} "
        f"on the test class to say which two values must give the same {outputs}"
    )
