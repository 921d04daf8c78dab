"""Errors a stage raises when a plugin breaks its contract, and partial results."""

from __future__ import annotations

from typing import Any

__all__ = ["StageError", "PartialStageError"]


class StageError(RuntimeError):
    """A stage failed in a way that names the plugin at fault."""


class PartialStageError(StageError):
    """Some metrics failed; ``rows`` holds the ones that were computed (they are kept)."""

    def __init__(self, message: str, rows: list[dict[str, Any]], info: dict[str, Any]) -> None:
        super().__init__(message)
        self.rows = rows
        self.info = info
