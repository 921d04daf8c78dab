"""A finished run directory, read without torch: its tables, manifest and leaderboard.

One reader serves ``ropbench leaderboard``, ``check``, ``compare`` and ``report``, so
"is this a run directory" and "read its manifest" have one answer each, and every
error names the file at fault.
"""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from ropbench.errors import RopbenchError

__all__ = ["RunDir", "RESULTS_FILE", "PER_IMAGE_FILE", "MANIFEST_FILE", "LEADERBOARD_FILE"]

RESULTS_FILE = "results.csv"
PER_IMAGE_FILE = "per_image.csv"
MANIFEST_FILE = "manifest.json"
LEADERBOARD_FILE = "leaderboard.md"


class RunDir:
    """The run directory at ``path``; :meth:`open` checks that it is one."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @classmethod
    def open(cls, path: Path | str) -> "RunDir":
        run = cls(Path(path))
        if not run.path.is_dir():
            raise RopbenchError(f"{run.path} is not a run directory: no such directory")
        if not (run.path / RESULTS_FILE).is_file():
            raise RopbenchError(f"{run.path} is not a run directory: {run.path / RESULTS_FILE} not found")
        return run

    @staticmethod
    def is_run_dir(path: Path | str) -> bool:
        return (Path(path) / RESULTS_FILE).is_file()

    @cached_property
    def results(self) -> pd.DataFrame:
        """The tidy results table (see :mod:`ropbench.results`)."""
        from ropbench.results import read_table

        return read_table(self.path / RESULTS_FILE)

    @cached_property
    def per_image(self) -> pd.DataFrame:
        path = self.path / PER_IMAGE_FILE
        try:
            return pd.read_csv(path)
        except (OSError, ValueError) as error:
            raise RopbenchError(f"{path} unreadable: {error}") from None

    @cached_property
    def manifest(self) -> Mapping[str, Any]:
        """``manifest.json``; empty when the run has none (a hand-made results table)."""
        path = self.path / MANIFEST_FILE
        if not path.is_file():
            return {}
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise RopbenchError(f"{path} unreadable: {error}") from None
        if not isinstance(manifest, dict):
            raise RopbenchError(f"{path} is not a ropbench manifest (expected a JSON object)")
        return manifest

    @cached_property
    def summary(self) -> pd.DataFrame:
        """Mean and std over seeds per metric (see :func:`ropbench.leaderboard.summarise`)."""
        from ropbench.leaderboard import summarise

        return summarise(self.results)

    @property
    def suite_name(self) -> str:
        return str(self.manifest.get("suite", {}).get("name") or self.path.name)

    @property
    def cache_dir(self) -> Path | None:
        cache_dir = self.manifest.get("cache_dir")
        return Path(cache_dir) if cache_dir else None

    @property
    def interrupted(self) -> bool:
        return bool(self.manifest.get("interrupted"))

    def leaderboard_text(self) -> str | None:
        """The ``leaderboard.md`` the run wrote, if it wrote one."""
        path = self.path / LEADERBOARD_FILE
        return path.read_text(encoding="utf-8") if path.is_file() else None
