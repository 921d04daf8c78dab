"""The score stage: every metric of a score task against one shared scoring context.

Each metric's row is its own cache entry (``scores/<metric key>.json``), so adding a
metric to a suite computes only that metric; the context (data, model, heatmaps) is
loaded only when some metric is not cached. A metric that raises or breaks its contract
fails alone: the other rows are kept and the task reports the failures.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping

import torch

from ropbench.aggregation import bootstrap_ci, chance_normalised
from ropbench.cache import Cache, CorruptCacheEntryError
from ropbench.registry import Registry
from ropbench.seeding import derive_seed
from ropbench.specs import MetricSpec, ScoringContext
from ropbench.stages.context import ScoredImages, scored_images, scoring_context
from ropbench.stages.errors import PartialStageError, StageError
from ropbench.tasks import ScoreTask

__all__ = ["score", "run_score_stage", "metric_seed", "outputs"]

SCORES = "scores"


def metric_seed(task_seed: int, metric: str) -> int:
    return derive_seed(task_seed, "score", metric)


def _finite_or_nan(value: float) -> float:
    return value if math.isfinite(value) else float("nan")


def _as_values(spec: MetricSpec, raw: object, n: int, what: str) -> torch.Tensor:
    """A metric's output as float64 on the CPU, its shape and range checked."""
    if not isinstance(raw, torch.Tensor):
        raise StageError(f"metric {spec.name!r} returned {type(raw).__name__} from {what}, expected a tensor")
    if not raw.is_floating_point():
        raise StageError(f"metric {spec.name!r} returned {raw.dtype} from {what}, expected a float tensor")
    if raw.ndim > 1 or (raw.ndim == 1 and raw.shape[0] != n):
        raise StageError(f"metric {spec.name!r} returned shape {tuple(raw.shape)} from {what}; expected "
                         f"({n},) per-image values or a 0-d dataset value")
    values = raw.detach().to("cpu", torch.float64)
    if bool(torch.isinf(values).any()):
        raise StageError(f"metric {spec.name!r} returned an infinite value from {what}; a value is finite, "
                         "or NaN for an image it does not score")
    if spec.bounds is not None:
        low, high = spec.bounds
        finite = values[~torch.isnan(values)]
        outside = finite[(finite < low - 1e-9) | (finite > high + 1e-9)]
        if outside.numel():
            raise StageError(f"metric {spec.name!r} returned {float(outside[0]):.6g} from {what}, outside its "
                             f"declared bounds [{low}, {high}]")
    return values


def score(spec: MetricSpec, params: Mapping[str, Any], context: ScoringContext, seed: int, *,
          resamples: int, n_excluded: int) -> dict[str, Any]:
    """One metric's row (without the cell's labels) and its per-image values."""
    n = len(context)
    values = _as_values(spec, spec.compute(context, seed, **params), n, "compute")
    per_image = values.flatten() if values.ndim else values.reshape(1)
    scored = per_image[~torch.isnan(per_image)]
    value = float(scored.mean()) if scored.numel() else float("nan")
    chance = float("nan")
    if spec.chance is not None:
        chance_values = _as_values(spec, spec.chance(context, seed, **params), n, "chance").flatten()
        chance_values = chance_values[~torch.isnan(chance_values)]
        chance = float(chance_values.mean()) if chance_values.numel() else float("nan")
    if values.ndim and scored.numel() > 1:
        low, high = bootstrap_ci(per_image, seed=seed, resamples=resamples)
    else:
        low = high = float("nan")
    n_unscored = int(per_image.numel() - scored.numel()) if values.ndim else 0
    return {
        "metric": spec.name,
        "kind": spec.kind,
        "higher_is_better": spec.higher_is_better,
        "value": _finite_or_nan(value),
        "chance": _finite_or_nan(chance),
        "chance_normalised": _finite_or_nan(
            chance_normalised(value, chance, higher_is_better=spec.higher_is_better)
        ),
        "ci_low": _finite_or_nan(float(low)),
        "ci_high": _finite_or_nan(float(high)),
        "n_images": int(scored.numel()) if values.ndim else n,
        "n_excluded": n_excluded + n_unscored,
        "per_image": [float(v) for v in per_image.tolist()] if values.ndim else [],
    }


def outputs(task: ScoreTask) -> list[tuple[str, str, str]]:
    return [(SCORES, task.metric_key(metric), ".json") for metric in task.metrics]


def run_score_stage(task: ScoreTask, cache: Cache, registry: Registry, log: Callable[[str], None],
                    refresh: bool = False) -> tuple[list[dict[str, Any]], dict[str, Any], int, int]:
    """Rows of every metric of ``task`` (each recomputed with ``refresh``), the images
    they scored, cache hits and misses."""
    rows: list[dict[str, Any]] = []
    errors: list[str] = []
    loaded: tuple[ScoringContext, ScoredImages] | None = None
    hits = misses = 0
    for metric in task.metrics:
        key = task.metric_key(metric)
        if not refresh and cache.has(SCORES, key, ".json"):
            try:
                rows.append(cache.load_json(SCORES, key))
                hits += 1
                continue
            except CorruptCacheEntryError as error:
                log(f"score of {metric.name}: {error.reason}; computing it again")
        if loaded is None:
            loaded = scoring_context(task, cache, registry, log)
        context, images = loaded
        spec = registry.metrics.get(metric.name)
        try:
            row = score(spec, metric.call_params(), context, metric_seed(task.seed, spec.name),
                        resamples=task.bootstrap_resamples, n_excluded=images.excluded)
        except Exception as error:  # one metric's failure must not lose the others
            errors.append(f"metric {spec.name!r} raised {type(error).__name__}: {error}")
            continue
        cache.save_json(SCORES, key, row)
        rows.append(row)
        misses += 1
    images = loaded[1] if loaded is not None else scored_images(task, cache, registry, log)
    info = {"rows": [int(r) for r in images.rows], "sources": list(images.sources), "excluded": images.excluded}
    if errors:
        raise PartialStageError("; ".join(errors), rows, info)
    return rows, info, hits, misses
