"""Scoring one metric on hand-built maps and masks, without the harness."""

from __future__ import annotations

import torch

from ropbench.registry import get_registry
from ropbench.specs import ScoringInputs


def localization_inputs(heatmaps: torch.Tensor, masks: torch.Tensor) -> ScoringInputs:
    heatmaps = torch.as_tensor(heatmaps, dtype=torch.float32)
    if heatmaps.dim() == 2:
        heatmaps, masks = heatmaps[None], torch.as_tensor(masks)[None]
    count = heatmaps.shape[0]
    return ScoringInputs(
        labels=torch.ones(count, dtype=torch.int64),
        probabilities=torch.full((count, 2), 0.5),
        seed=0,
        heatmaps=heatmaps,
        masks=torch.as_tensor(masks, dtype=torch.bool),
    )


def score(name: str, inputs: ScoringInputs, **params) -> torch.Tensor:
    spec = get_registry().metrics.get(name)
    return spec.compute(inputs, **{**spec.params, **params})


def chance(name: str, inputs: ScoringInputs, **params) -> torch.Tensor:
    spec = get_registry().metrics.get(name)
    return spec.chance(inputs, **{**spec.params, **params})
