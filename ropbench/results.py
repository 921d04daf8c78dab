"""The tidy results table: one row per generator, architecture, explainer, seed, metric.

Rows are assembled from the cache (not from the executor's memory), so a run that was
interrupted or had failures still reports every stage that finished, and two runs of
the same suite write byte-identical files.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ropbench.cache import Cache, CorruptCacheEntryError
from ropbench.errors import RopbenchError
from ropbench.registry import natural_key

if TYPE_CHECKING:
    from ropbench.planning import Plan

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
PER_IMAGE_COLUMNS = ["generator", "architecture", "explainer", "seed", "metric", "image", "source", "value"]
FLOAT_FORMAT = "%.6g"  # fixed formatting keeps reruns byte-identical
SORT_COLUMNS = ["generator", "architecture", "explainer", "seed", "metric"]


def natural_sort(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Rows ordered by ``columns`` in natural order ('patch8' before 'patch16')."""
    if frame.empty:
        return frame.reset_index(drop=True)
    keys = frame[columns].astype(str).apply(lambda col: col.map(lambda v: tuple(natural_key(v))))
    order = sorted(range(len(frame)), key=lambda i: tuple(keys.iloc[i]))
    return frame.iloc[order].reset_index(drop=True)


def _finished_record(cache: Cache, key: str) -> dict[str, Any] | None:
    """A score task's finished record, else what it kept before a metric failed."""
    from ropbench.stages.runtime import PARTIAL, RESULTS  # torch-free module constants

    for namespace in (RESULTS, PARTIAL):
        if cache.has(namespace, key, ".json"):
            try:
                record = cache.load_json(namespace, key)
            except CorruptCacheEntryError:
                continue
            if isinstance(record, dict) and "rows" in record:
                return record
    return None


def collect_results(plan: "Plan", cache: Cache, suite_name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(results table, per-image table) from every finished score task.

    A task that failed part-way contributes the rows it computed before failing. A
    synthetic image's ``source`` is ``<generator label>/test/<index>``; a loaded image's
    is its file name relative to the dataset root.
    """
    rows: list[dict[str, Any]] = []
    per_image: list[dict[str, Any]] = []
    for task in plan.score_tasks():
        record = _finished_record(cache, task.key)
        if record is None:
            continue
        cell = task.cell
        labels = {"generator": cell.generator, "architecture": cell.architecture,
                  "explainer": cell.explainer, "seed": cell.seed}
        info = record.get("info", {})
        test_rows = info.get("rows", [])
        sources = [s or f"{cell.generator}/test/{r}" for s, r in zip(info.get("sources", []), test_rows)]
        for row in record["rows"]:
            rows.append({"suite": suite_name, **labels, **{k: v for k, v in row.items() if k != "per_image"}})
            per_image += [
                {**labels, "metric": row["metric"], "image": test_rows[i] if i < len(test_rows) else i,
                 "source": sources[i] if i < len(sources) else "", "value": value}
                for i, value in enumerate(row.get("per_image", []))
            ]
    table = natural_sort(pd.DataFrame(rows, columns=RESULT_COLUMNS), SORT_COLUMNS)
    images = natural_sort(pd.DataFrame(per_image, columns=PER_IMAGE_COLUMNS), SORT_COLUMNS + ["image"])
    return table, images


def write_table(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, index=False, float_format=FLOAT_FORMAT, lineterminator="\n")
    return path


def read_table(path: Path) -> pd.DataFrame:
    """A results table written by :func:`write_table`; the error names the file."""
    try:
        frame = pd.read_csv(path, keep_default_na=True)
    except (OSError, ValueError) as error:
        raise RopbenchError(f"cannot read results table {path}: {error}") from None
    missing = [c for c in RESULT_COLUMNS if c not in frame.columns]
    if missing:
        raise RopbenchError(f"{path} is not a ropbench results table: missing columns {missing}")
    frame["explainer"] = frame["explainer"].astype(str)
    return frame
