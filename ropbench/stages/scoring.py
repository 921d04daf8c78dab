"""Turning a metric's per-image values into a result row (value, chance, CI, counts)."""

from __future__ import annotations

import math
from typing import Any, Mapping

import torch

from ropbench.aggregation import bootstrap_ci, chance_normalised
from ropbench.specs import MetricSpec, ScoringInputs

__all__ = ["score"]


def _finite_or_nan(value: float) -> float:
    return value if math.isfinite(value) else float("nan")


def score(
    spec: MetricSpec, params: Mapping[str, Any], inputs: ScoringInputs, *,
    resamples: int, n_excluded: int,
) -> dict[str, Any]:
    """One metric's row (without the cell's labels) and its per-image values."""
    values = torch.as_tensor(spec.compute(inputs, **params), dtype=torch.float64).detach().cpu()
    per_image = values.flatten() if values.ndim else values.reshape(1)
    scored = per_image[~torch.isnan(per_image)]
    value = float(scored.mean()) if scored.numel() else float("nan")
    chance = float("nan")
    if spec.chance is not None:
        chance_values = torch.as_tensor(spec.chance(inputs, **params), dtype=torch.float64).flatten()
        chance_values = chance_values[~torch.isnan(chance_values)]
        chance = float(chance_values.mean()) if chance_values.numel() else float("nan")
    if values.ndim and scored.numel() > 1:
        low, high = bootstrap_ci(per_image, seed=inputs.seed, resamples=resamples)
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
        "n_images": int(scored.numel()) if values.ndim else int(inputs.labels.numel()),
        "n_excluded": n_excluded + n_unscored,
        "per_image": [float(v) for v in per_image.tolist()] if values.ndim else [],
    }
