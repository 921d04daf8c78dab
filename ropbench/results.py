"""The tidy results table: one row per generator, architecture, explainer, seed, metric.

Rows are assembled from the cache (not from the executor's memory), so a run that was
interrupted or had failures still reports every stage that finished, and two runs of
the same suite write byte-identical files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from ropbench.cache import Cache, CorruptCacheEntryError
from ropbench.planning import Plan
from ropbench.registry import natural_key
from ropbench.stages.runtime import RESULTS_STAGE

__all__ = [
    "RESULT_COLUMNS",
    "PER_IMAGE_COLUMNS",
    "collect_results",
    "write_table",
    "read_table",
    "FLOAT_FORMAT",
]

RESULT_COLUMNS = [
    "suite", "generator", "architecture", "explainer", "seed", "metric", "kind",
    "higher_is_better", "value", "chance", "chance_normalised", "ci_low", "ci_high",
    "n_images", "n_excluded",
]
PER_IMAGE_COLUMNS = ["generator", "architecture", "explainer", "seed", "metric", "image", "value"]
FLOAT_FORMAT = "%.6g"  # fixed formatting keeps reruns byte-identical
SORT_COLUMNS = ["generator", "architecture", "explainer", "seed", "metric"]


def _sorted(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    if frame.empty:
        return frame
    keys = frame[columns].astype(str).apply(lambda col: col.map(lambda v: tuple(natural_key(v))))
    order = sorted(range(len(frame)), key=lambda i: tuple(keys.iloc[i]))
    return frame.iloc[order].reset_index(drop=True)


def collect_results(plan: Plan, cache: Cache, suite_name: str) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """(results table, per-image table, per-task info) from every finished task in ``plan``.

    A task that failed part-way contributes the rows it computed before failing.
    """
    rows: list[dict[str, Any]] = []
    per_image: list[dict[str, Any]] = []
    infos: dict[str, Any] = {}
    for task in plan.tasks:
        if task.stage == "data":
            continue
        if cache.has(RESULTS_STAGE, task.key, ".json"):
            record = cache.load_json(RESULTS_STAGE, task.key)
        elif cache.has("partial", task.key, ".json"):
            record = cache.load_json("partial", task.key)
        else:
            continue
        cell = plan.cells[task.key]
        labels = {"generator": cell.generator, "architecture": cell.architecture,
                  "explainer": cell.explainer, "seed": cell.seed}
        infos[task.label] = record.get("info", {})
        for row in record["rows"]:
            rows.append({"suite": suite_name, **labels, **{k: v for k, v in row.items() if k != "per_image"}})
            per_image += [
                {**labels, "metric": row["metric"], "image": i, "value": value}
                for i, value in enumerate(row.get("per_image", []))
            ]
    table = _sorted(pd.DataFrame(rows, columns=RESULT_COLUMNS), SORT_COLUMNS)
    images = _sorted(pd.DataFrame(per_image, columns=PER_IMAGE_COLUMNS), SORT_COLUMNS + ["image"])
    return table, images, infos


def write_table(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, index=False, float_format=FLOAT_FORMAT, lineterminator="\n")
    return path


def read_table(path: Path) -> pd.DataFrame:
    """A results table written by :func:`write_table`; the error names the file."""
    try:
        frame = pd.read_csv(path, keep_default_na=True)
    except (OSError, ValueError) as error:
        raise CorruptCacheEntryError(f"cannot read results table {path}: {error}") from error
    missing = [c for c in RESULT_COLUMNS if c not in frame.columns]
    if missing:
        raise CorruptCacheEntryError(f"{path} is not a ropbench results table: missing columns {missing}")
    frame["explainer"] = frame["explainer"].astype(str)
    return frame
