"""What a report reads from a run directory: the tidy table, its boards and the manifest
(through :class:`ropbench.rundir.RunDir`), and where each cell's cache entries are.

A cell's cache entries are found through the manifest's ``tasks``: a train task's key
names its predictions (``predictions/<key>.pt``), an explain task's key its heatmaps
(``heatmaps/<key>.pt``), and each task's ``inputs`` name the data entry it read
(``data/<key>.test.pt``). Nothing is re-derived from labels.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from ropbench.leaderboard import board_data
from ropbench.registry import natural_key
from ropbench.report.boards import BoardData
from ropbench.report.controls import Controls
from ropbench.rundir import RunDir

__all__ = ["RunData", "ExplainCell", "TrainCell", "load_run", "cells_from_tasks"]


@dataclass(frozen=True)
class TrainCell:
    """A trained model of the run: its predictions entry and the data it was tested on."""

    generator: str
    architecture: str
    seed: int
    train_key: str
    data_key: str
    control: bool = False


@dataclass(frozen=True)
class ExplainCell:
    """An explained (generator, architecture, explainer, seed): its heatmaps entry and data."""

    generator: str
    architecture: str
    explainer: str
    seed: int
    heatmap_key: str
    data_key: str
    control: bool = False


@dataclass
class RunData:
    """A finished run as the report sees it."""

    source: RunDir
    boards: BoardData
    train_cells: list[TrainCell] = field(default_factory=list)
    explain_cells: list[ExplainCell] = field(default_factory=list)

    @property
    def run_dir(self) -> Path:
        return self.source.path

    @property
    def table(self) -> pd.DataFrame:
        return self.source.results

    @property
    def manifest(self) -> Mapping[str, Any]:
        return self.source.manifest

    @property
    def summary(self) -> pd.DataFrame:
        return self.boards.summary

    @property
    def controls(self) -> Controls:
        return self.boards.controls

    @property
    def title(self) -> str:
        return self.source.suite_name

    @property
    def cache_dir(self) -> Path | None:
        return self.source.cache_dir

    @property
    def generators(self) -> list[str]:
        return sorted({str(g) for g in self.table["generator"]}, key=natural_key)

    @property
    def target(self) -> str:
        """The localization target the run scored: ``region`` (default) or ``vessels``."""
        return str(((self.manifest.get("suite") or {}).get("scoring") or {}).get("target", "region"))


def _cell_order(cell: TrainCell | ExplainCell) -> tuple:
    explainer = getattr(cell, "explainer", "")
    return (natural_key(cell.generator), cell.control, natural_key(cell.architecture), natural_key(explainer),
            cell.seed)


def cells_from_tasks(tasks: list[Mapping[str, Any]], controls: Controls) -> tuple[list[TrainCell], list[ExplainCell]]:
    """Train and explain cells of the manifest's ``tasks`` (whatever their status: a cell
    whose entry is missing is reported as such), models before controls, natural order."""
    trains: list[TrainCell] = []
    explains: list[ExplainCell] = []
    for task in tasks:
        data_key = (task.get("inputs") or {}).get("data")
        if not data_key or not task.get("key"):
            continue
        generator, architecture, seed = str(task["generator"]), str(task["architecture"]), int(task["seed"])
        if task.get("stage") == "train":
            trains.append(TrainCell(generator, architecture, seed, str(task["key"]), str(data_key),
                                    controls.is_control_architecture(architecture)))
        elif task.get("stage") == "explain":
            explainer = str(task["explainer"])
            explains.append(ExplainCell(generator, architecture, explainer, seed, str(task["key"]), str(data_key),
                                        controls.is_control_explainer(explainer)))
    return sorted(trains, key=_cell_order), sorted(explains, key=_cell_order)


def load_run(run_dir: Path) -> RunData:
    """Read a run directory (``results.csv``; ``manifest.json`` optional)."""
    run = RunDir.open(run_dir)
    boards = board_data(run.results, run.manifest)
    tasks = [t for t in run.manifest.get("tasks") or [] if isinstance(t, Mapping)]
    trains, explains = cells_from_tasks(tasks, boards.controls)
    return RunData(run, boards, trains, explains)
