"""Scoring one metric on hand-built maps and masks, without the harness."""

from __future__ import annotations

import torch

from ropbench.registry import get_registry
from ropbench.specs import ScoringContext


def localization_context(heatmaps: torch.Tensor, masks: torch.Tensor, **planes: torch.Tensor) -> ScoringContext:
    """A heatmap step's context of these maps and targets (2-D: one image), plus any
    other planes (``vessels``, ``tortuous_vessels``, ...) given as keywords."""
    heatmaps = torch.as_tensor(heatmaps, dtype=torch.float32)
    if heatmaps.dim() == 2:
        heatmaps, masks = heatmaps[None], torch.as_tensor(masks)[None]
        planes = {name: torch.as_tensor(plane)[None] for name, plane in planes.items()}
    count = heatmaps.shape[0]
    return ScoringContext(
        labels=torch.ones(count, dtype=torch.int64),
        probabilities=torch.full((count, 2), 0.5),
        heatmaps=heatmaps,
        masks=torch.as_tensor(masks, dtype=torch.bool),
        **planes,
    )


def score(name: str, context: ScoringContext, seed: int = 0, **params) -> torch.Tensor:
    spec = get_registry().metrics.get(name)
    return spec.compute(context, seed, **{**spec.params, **params})


def chance(name: str, context: ScoringContext, seed: int = 0, **params) -> torch.Tensor:
    spec = get_registry().metrics.get(name)
    return spec.chance(context, seed, **{**spec.params, **params})
