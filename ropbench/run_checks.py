"""Checks on a finished run that catch a silently meaningless number: a test split with
one class (accuracy then says nothing), and the ``random`` control far from a metric's
declared chance level (the sign of a wrong chance formula). They warn, on stderr and in
the manifest; they never change results.
"""

from __future__ import annotations

import math
import pandas as pd

from ropbench.cache import Cache
from ropbench.tasks import DataTask, ExplainTask, StageTask

__all__ = ["run_warnings", "RANDOM_CONTROL", "CHANCE_SLACK"]

RANDOM_CONTROL = "random"  # the built-in uniform-noise explainer
# How far outside its bootstrap CI the random control may land before its metric's
# chance level is called into question (absolute, on the metric's own scale).
CHANCE_SLACK = 0.02


def _single_class_splits(tasks: list[StageTask], cache: Cache) -> list[str]:
    from ropbench.stages.runtime import task_record

    found = []
    for task in tasks:
        if not isinstance(task, DataTask):
            continue
        record = task_record(cache, task) or {}
        for split, counts in (record.get("info") or {}).items():
            if not isinstance(counts, dict) or not counts.get("images"):
                continue
            if counts.get("rop") in (0, counts["images"]):
                kind = "no ROP" if counts["rop"] == 0 else "only ROP"
                found.append(f"{task.cell.generator} (seed {task.seed}): the {split} split has {kind} images, "
                             "so its classification scores and chance levels mean nothing")
    return found


def _within_sampling_noise(value: float, chance: float, low: float, high: float, n_images: object) -> bool:
    """Whether ``chance`` is a plausible mean for the random control's scores.

    The bootstrap CI says so, except when it is degenerate: a per-image hit/miss metric
    with a small chance (intervention-hit: about 0.05) is all misses in 0/50 images one
    time in ten, and the bootstrap of fifty zeros is [0, 0]. Then the binomial noise at
    the declared chance decides: within 1.96 standard errors of ``chance`` over the
    images scored (the metric's values being shares in [0, 1]).
    """
    if low < high or not 0.0 <= chance <= 1.0 or not isinstance(n_images, (int, float)) or not n_images >= 1:
        return low - CHANCE_SLACK <= chance <= high + CHANCE_SLACK
    margin = 1.96 * math.sqrt(chance * (1.0 - chance) / float(n_images))
    return abs(value - chance) <= margin + CHANCE_SLACK


def _random_off_chance(tasks: list[StageTask], table: pd.DataFrame) -> list[str]:
    random_cells = {(t.cell.generator, t.cell.architecture, t.cell.explainer, t.seed)
                    for t in tasks if isinstance(t, ExplainTask) and t.explainer.name == RANDOM_CONTROL}
    found = []
    for row in table.itertuples(index=False):
        if (row.generator, row.architecture, row.explainer, row.seed) not in random_cells:
            continue
        values = [row.value, row.chance, row.ci_low, row.ci_high]
        if any(not isinstance(v, (int, float)) or math.isnan(v) for v in values):
            continue
        if not _within_sampling_noise(row.value, row.chance, row.ci_low, row.ci_high, row.n_images):
            found.append(f"metric {row.metric}: the random control scores {row.value:.3f} (95% CI "
                         f"{row.ci_low:.3f}-{row.ci_high:.3f}) on {row.generator}/{row.architecture} seed {row.seed}, "
                         f"but the metric declares chance {row.chance:.3f}: check its chance formula")
    return found


def run_warnings(tasks: list[StageTask], table: pd.DataFrame, cache: Cache) -> list[str]:
    """Every warning about ``table``'s meaning, one line each."""
    return _single_class_splits(tasks, cache) + _random_off_chance(tasks, table)
