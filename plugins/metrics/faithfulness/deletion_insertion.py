"""Deletion and insertion AUC (Petsiuk et al., RISE), batched over steps.

Deletion removes the most salient pixels first (replacing them by a baseline) and
records the target-class probability after each of ``steps`` equal steps; a faithful
map makes it fall fast (low AUC is better). Insertion starts from the baseline and
restores the most salient pixels first (high AUC is better). The AUC is the trapezoid
area under probability vs. share of pixels changed, in [0, 1].

Model forwards: ``steps + 1`` per image and metric (the unperturbed / fully baseline
image included), in batches of ``batch_size`` perturbed images.

Chance level: the same curve for one seeded uniformly random map per image (a random
pixel order): a single-draw estimate of the random map's expected score, at the same
forward cost. It is an estimate, not an exact expectation (depends on the model).
"""

from __future__ import annotations

from typing import Callable

import torch

from ropbench.specs import MetricSpec, ScoringContext
from ropbench_plugins.metrics.faithfulness.perturbation import (
    baseline_images,
    pixel_ranks,
    target_probabilities,
)

__all__ = ["perturbation_curve_auc", "deletion_insertion_specs"]


def perturbation_curve_auc(
    model: torch.nn.Module,
    images: torch.Tensor,
    targets: torch.Tensor,
    ranks: torch.Tensor,
    baselines: torch.Tensor,
    *,
    mode: str,
    steps: int,
    batch_size: int,
) -> torch.Tensor:
    """float64 [N]: deletion (``mode="deletion"``) or insertion AUC per image.

    ``ranks`` int64 [N, H*W] orders the pixels (0 = changed first); ``baselines`` has
    the shape of ``images``.
    """
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    count, channels, height, width = images.shape
    pixels = height * width
    fractions = torch.linspace(0.0, 1.0, steps + 1, dtype=torch.float64)
    changed_counts = torch.round(fractions * pixels).to(torch.int64)  # [S+1]
    per_chunk = max(1, batch_size // (steps + 1))
    curves = []
    for start in range(0, count, per_chunk):
        part = slice(start, start + per_chunk)
        chunk_ranks = ranks[part].to(images.device)
        # [c, S+1, 1, H, W]: pixel changed at this step?
        changed = (chunk_ranks[:, None, :] < changed_counts.to(images.device)[None, :, None])
        changed = changed.reshape(-1, steps + 1, 1, height, width)
        original = images[part][:, None]
        baseline = baselines[part][:, None]
        if mode == "deletion":
            perturbed = torch.where(changed, baseline, original)
        elif mode == "insertion":
            perturbed = torch.where(changed, original, baseline)
        else:
            raise ValueError(f"mode must be deletion or insertion, got {mode!r}")
        chunk_targets = targets[part].repeat_interleave(steps + 1)
        probabilities = target_probabilities(
            model, perturbed.reshape(-1, channels, height, width), chunk_targets, batch_size
        )
        curves.append(probabilities.reshape(-1, steps + 1))
    if not curves:
        return torch.zeros(0, dtype=torch.float64)
    curve = torch.cat(curves)
    return torch.trapezoid(curve, fractions, dim=1)


def _metric(mode: str, use_random_map: bool) -> Callable[..., torch.Tensor]:
    def compute(
        context: ScoringContext, seed: int, steps: int = 16, baseline: str = "black", batch_size: int = 64
    ) -> torch.Tensor:
        model, images, targets, heatmaps = context.require("model", "images", "targets", "heatmaps")
        if use_random_map:
            generator = torch.Generator().manual_seed(int(seed) + 1)
            heatmaps = torch.rand(heatmaps.shape, generator=generator)
        ranks = pixel_ranks(heatmaps, seed)
        baselines = baseline_images(images, baseline, seed)
        return perturbation_curve_auc(
            model, images, targets, ranks, baselines, mode=mode, steps=int(steps), batch_size=int(batch_size)
        )

    return compute


def deletion_insertion_specs() -> list[MetricSpec]:
    """``deletion-auc`` and ``insertion-auc``."""
    return [
        MetricSpec(
            name="deletion-auc",
            kind="faithfulness",
            higher_is_better=False,
            compute=_metric("deletion", False),
            chance=_metric("deletion", True),
            bounds=(0.0, 1.0),
            version="1",
            params={"steps": 16, "baseline": "black", "batch_size": 64},
            execution_params=frozenset({"batch_size"}),
            description="Area under the target probability as the most salient pixels are removed first.",
        ),
        MetricSpec(
            name="insertion-auc",
            kind="faithfulness",
            higher_is_better=True,
            compute=_metric("insertion", False),
            chance=_metric("insertion", True),
            bounds=(0.0, 1.0),
            version="1",
            params={"steps": 16, "baseline": "blur", "batch_size": 64},
            execution_params=frozenset({"batch_size"}),
            description="Area under the target probability as the most salient pixels are restored first.",
        ),
    ]
