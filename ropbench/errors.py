"""Errors the user sees: each names the thing at fault."""

from __future__ import annotations

import difflib
from typing import Iterable

__all__ = ["RopbenchError", "UnknownNameError", "DuplicateNameError", "did_you_mean"]


class RopbenchError(Exception):
    """Base class of errors that the CLI prints without a traceback."""


def did_you_mean(name: str, available: Iterable[str]) -> str:
    """'did you mean X? available: ...' text for an unknown ``name``."""
    choices = sorted(available)
    close = difflib.get_close_matches(name, choices, n=3, cutoff=0.5)
    hint = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
    return f"{hint}available: {', '.join(choices) if choices else '(none)'}"


class UnknownNameError(RopbenchError, KeyError):
    """A plugin name that no registered plugin provides."""

    def __init__(self, family: str, name: str, available: Iterable[str]) -> None:
        self.family = family
        self.name = name
        super().__init__(f"unknown {family} {name!r}; {did_you_mean(name, available)}")

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class DuplicateNameError(RopbenchError):
    """Two plugins registered the same name in one family."""

    def __init__(self, family: str, name: str, first: str, second: str) -> None:
        super().__init__(
            f"{family} {name!r} is registered by both plugin {first!r} and plugin {second!r}; "
            f"disable one with ROPBENCH_DISABLE_PLUGINS"
        )
