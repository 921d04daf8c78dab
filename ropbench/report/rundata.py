"""What a report reads from a run directory: the tidy table, its summary and the manifest.

The cache entries behind the run (images, heatmaps, models) are found through the
manifest's ``cache_dir`` and its per-task ``cells`` info, keyed by task label.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from ropbench.errors import RopbenchError
from ropbench.leaderboard import summarise
from ropbench.planning import NO_EXPLAINER
from ropbench.registry import natural_key
from ropbench.results import read_table

__all__ = ["RunData", "ExplainCell", "TrainCell", "load_run", "explain_label", "train_label"]


def train_label(generator: str, architecture: str, seed: int) -> str:
    """The task label the runner gives a train task (see :mod:`ropbench.planning`)."""
    return f"{generator}/{architecture}/seed={seed}"


def explain_label(generator: str, architecture: str, explainer: str, seed: int) -> str:
    """The task label the runner gives an explain task."""
    return f"{train_label(generator, architecture, seed)}/{explainer}"


@dataclass(frozen=True)
class TrainCell:
    """A trained model of the run and where its cache entries are."""

    generator: str
    architecture: str
    seed: int
    model_key: str
    data_key: str


@dataclass(frozen=True)
class ExplainCell:
    """An explained (generator, architecture, explainer, seed) and its cache entries."""

    generator: str
    architecture: str
    explainer: str
    seed: int
    heatmap_key: str
    model_key: str
    data_key: str
    explained_indices: tuple[int, ...]
    target: str


@dataclass
class RunData:
    """A finished run as the report sees it."""

    run_dir: Path
    table: pd.DataFrame
    summary: pd.DataFrame
    manifest: Mapping[str, Any]
    train_cells: list[TrainCell] = field(default_factory=list)
    explain_cells: list[ExplainCell] = field(default_factory=list)

    @property
    def title(self) -> str:
        return str(self.manifest.get("suite", {}).get("name") or self.run_dir.name)

    @property
    def cache_dir(self) -> Path | None:
        cache_dir = self.manifest.get("cache_dir")
        return Path(cache_dir) if cache_dir else None

    @property
    def generators(self) -> list[str]:
        return sorted({str(g) for g in self.table["generator"]}, key=natural_key)

    @property
    def seeds(self) -> list[int]:
        return sorted({int(s) for s in self.table["seed"]})


def _cells(table: pd.DataFrame, infos: Mapping[str, Any]) -> tuple[list[TrainCell], list[ExplainCell]]:
    """Cells of the table whose task info the manifest recorded, in natural order."""
    combos = table[["generator", "architecture", "explainer", "seed"]].drop_duplicates()
    combos = sorted(combos.itertuples(index=False), key=lambda c: tuple(tuple(natural_key(str(v))) for v in c))
    trains: list[TrainCell] = []
    explains: list[ExplainCell] = []
    for generator, architecture, explainer, seed in combos:
        if explainer == NO_EXPLAINER:
            info = infos.get(train_label(generator, architecture, int(seed)), {})
            if "model_key" in info and "data_key" in info:
                trains.append(TrainCell(generator, architecture, int(seed), info["model_key"], info["data_key"]))
            continue
        info = infos.get(explain_label(generator, architecture, explainer, int(seed)), {})
        if {"heatmap_key", "model_key", "data_key"} <= set(info):
            explains.append(ExplainCell(
                generator, architecture, explainer, int(seed), info["heatmap_key"], info["model_key"],
                info["data_key"], tuple(int(i) for i in info.get("explained_indices", ())),
                str(info.get("target", "region")),
            ))
    return trains, explains


def load_run(run_dir: Path) -> RunData:
    """Read ``results.csv`` and ``manifest.json`` (optional) of a run directory."""
    run_dir = Path(run_dir)
    results = run_dir / "results.csv"
    if not results.is_file():
        raise RopbenchError(f"{run_dir} is not a run directory: {results} not found")
    table = read_table(results)
    manifest_path = run_dir / "manifest.json"
    manifest: dict[str, Any] = {}
    if manifest_path.is_file():
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except ValueError as error:
            raise RopbenchError(f"{manifest_path} unreadable: {error}") from None
    trains, explains = _cells(table, manifest.get("cells", {}))
    return RunData(run_dir, table, summarise(table), manifest, trains, explains)
