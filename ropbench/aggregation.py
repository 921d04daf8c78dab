"""Turning per-image metric values into a result row's summary numbers.

Both helpers are used by the score stage for every (cell, metric):

- :func:`bootstrap_ci`: a seeded percentile-bootstrap confidence interval of the mean
  over images (NaNs, i.e. images a metric could not score, are dropped first);
- :func:`chance_normalised`: where a score sits between chance (0) and perfect (1).

The mean and std over seeds that leaderboards show are :func:`ropbench.leaderboard.summarise`'s.

Values are computed in float64 so that the summaries of the same per-image values are
identical whatever dtype a metric returned.
"""

from __future__ import annotations

import math
from typing import Sequence

import torch

__all__ = ["bootstrap_ci", "chance_normalised"]

# Upper bound on resample-index elements held at once; beyond it resamples are drawn in
# blocks of whole resamples.
_MAX_INDEX_ELEMENTS = 1 << 22


def _finite_values(values: torch.Tensor | Sequence[float]) -> torch.Tensor:
    """Flattened float64 values with NaNs removed (infinities are kept: they are errors
    a summary should show, not hide)."""
    tensor = torch.as_tensor(values, dtype=torch.float64).detach().cpu().flatten()
    return tensor[~torch.isnan(tensor)]


def bootstrap_ci(
    values: torch.Tensor | Sequence[float],
    *,
    seed: int,
    resamples: int = 1000,
    level: float = 0.95,
) -> tuple[float, float]:
    """Percentile-bootstrap confidence interval of the mean of ``values``.

    NaNs are dropped first. Each resample draws ``len(values)`` images with replacement
    (all resamples drawn at once, no Python loop over them) from a local generator
    seeded with ``seed``, so the interval is reproducible and independent of any global
    RNG state. The interval is the ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles
    (linear interpolation) of the resampled means.

    :return: ``(low, high)``; ``(nan, nan)`` when no value is left, ``(v, v)`` for one.
    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    if resamples < 1:
        raise ValueError(f"resamples must be positive, got {resamples}")
    kept = _finite_values(values)
    count = kept.numel()
    if count == 0:
        return math.nan, math.nan
    if count == 1:
        only = float(kept[0])
        return only, only

    generator = torch.Generator().manual_seed(int(seed))
    # Blocks of whole resamples bound memory for large N; the block size depends only
    # on N, so the index stream (and the interval) is a function of (values, seed).
    block = max(1, _MAX_INDEX_ELEMENTS // count)
    means = []
    for start in range(0, resamples, block):
        rows = min(block, resamples - start)
        index = torch.randint(count, (rows, count), generator=generator)
        means.append(kept[index].mean(dim=1))
    resampled_means = torch.cat(means)
    tail = (1.0 - level) / 2.0
    bounds = torch.quantile(
        resampled_means, torch.tensor([tail, 1.0 - tail], dtype=torch.float64)
    )
    return float(bounds[0]), float(bounds[1])


def chance_normalised(
    value: float,
    chance: float | None,
    *,
    higher_is_better: bool,
    best: float | None = None,
) -> float:
    """``(value - chance) / (best - chance)``: 1 is perfect, 0 is a random map's score,
    negative is worse than chance.

    ``best`` defaults to 1 for higher-is-better metrics and 0 for lower-is-better ones,
    which fits every bounded ropbench metric (all localization metrics lie in [0, 1]).
    The same formula serves both directions: for a lower-is-better metric with best 0 it
    is ``1 - value / chance``.

    :return: NaN where undefined: no chance level, a NaN value or chance, or chance
        equal to the best score (e.g. recall when the mask covers the whole image).
    """
    if chance is None:
        return math.nan
    value, chance = float(value), float(chance)
    if best is None:
        best = 1.0 if higher_is_better else 0.0
    span = best - chance
    if math.isnan(value) or math.isnan(chance) or span == 0.0:
        return math.nan
    return (value - chance) / span
