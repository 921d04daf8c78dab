"""Parsing ``NAME=VALUE`` command-line assignments (``--param``, ``--option``)."""

from __future__ import annotations

import json
from typing import Any

from ropbench.errors import RopbenchError

__all__ = ["parse_assignment"]


def parse_assignment(text: str, flag: str) -> tuple[str, Any]:
    """``name=value`` with the value read as JSON when it parses (numbers, lists, true,
    null), else kept as a string; ``flag`` names the option in the error."""
    name, sep, raw = text.partition("=")
    if not sep or not name.strip():
        raise RopbenchError(f"{flag} expects NAME=VALUE, got {text!r}")
    try:
        return name.strip(), json.loads(raw)
    except json.JSONDecodeError:
        return name.strip(), raw
