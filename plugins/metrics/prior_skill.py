"""Relevance mass beyond what the vessel prior gets for free (``prior-skill``).

Per image, with R = ``context.masks`` (the localization target) and S the vessel pixels
(:func:`ropbench.vessels.vessel_pixels` of ``context.vessels``, unweighted):

- mass = the ``relevance-mass`` of the heatmap in R (:mod:`.relevance`: positive
  relevance inside R over all positive relevance; negative values count as 0; a map
  with no positive value scores |R| / n);
- c_P = the relevance mass of the ``vessel-map`` control, the indicator of S:
  |S and R| / |S|;
- skill = (mass - c_P) / (1 - c_P).

1 is a map whose positive relevance lies entirely in R; 0 is the vessel prior; below 0
is worse than the vessel prior (down to -c_P / (1 - c_P) for a map with all its mass
outside R). NaN when R is empty, S is empty, c_P = 1 (the prior is already perfect) or
the map has a NaN or infinite value.

Chance: a uniformly random map's expected relevance mass is |R| / n exactly (its pixels
are exchangeable), and skill is linear in mass, so the chance level is exactly
(|R| / n - c_P) / (1 - c_P): usually negative, because vessels concentrate where the
tortuous region is.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ropbench import hookimpl
from ropbench.specs import MetricSpec, ScoringContext
from ropbench_plugins.metrics._blocks import map_blocks
from ropbench_plugins.metrics._context import flat_numpy, heatmaps_and_masks, mask_pixel_counts, vessel_indicator
from ropbench_plugins.metrics.relevance import shared_relevance_mass

__all__ = ["ropbench_register_metrics", "vessel_prior_mass", "skill_over_prior", "specs"]


def vessel_prior_mass(context: ScoringContext) -> torch.Tensor:
    """float64 [N]: c_P = |S and R| / |S| (NaN without vessel pixels), once per context."""

    def compute() -> torch.Tensor:
        _, masks = heatmaps_and_masks(context)
        (vessels,) = context.require("vessels")
        if vessels.shape != masks.shape:
            raise ValueError(f"vessels {tuple(vessels.shape)} must match masks {tuple(masks.shape)}")
        plane, target = flat_numpy(vessels, torch.float32), flat_numpy(masks, torch.bool)

        def counts(rows: slice) -> np.ndarray:
            vessel = vessel_indicator(plane[rows])
            return np.stack([np.count_nonzero(vessel & target[rows], axis=1), np.count_nonzero(vessel, axis=1)], 1)

        inside, total = np.concatenate(map_blocks(plane.shape[0], counts) or [np.zeros((0, 2))]).T
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(total > 0, inside / total, np.nan)
        return torch.from_numpy(share.astype(np.float64))

    return context.shared.get(("vessel-prior-mass",), compute).clone()


def skill_over_prior(mass: torch.Tensor, prior: torch.Tensor) -> torch.Tensor:
    """(mass - prior) / (1 - prior), NaN where the prior is 1 or either is NaN."""
    mass, prior = mass.to(torch.float64), prior.to(torch.float64)
    skill = (mass - prior) / (1 - prior)
    return torch.where(prior < 1, skill, torch.nan)


def _prior_skill(context: ScoringContext, seed: int) -> torch.Tensor:
    return skill_over_prior(shared_relevance_mass(context), vessel_prior_mass(context))


def _prior_skill_chance(context: ScoringContext, seed: int) -> torch.Tensor:
    _, masks = heatmaps_and_masks(context)
    mask_pixels = mask_pixel_counts(context).to(torch.float64)
    uniform = torch.where(mask_pixels > 0, mask_pixels / (masks.shape[1] * masks.shape[2]), torch.nan)
    return skill_over_prior(uniform, vessel_prior_mass(context))


def specs() -> list[MetricSpec]:
    """``prior-skill``."""
    return [
        MetricSpec(
            name="prior-skill",
            kind="localization",
            higher_is_better=True,
            compute=_prior_skill,
            chance=_prior_skill_chance,
            bounds=(-math.inf, 1.0),
            version="1",
            params={},
            description=(
                "Relevance mass in the target beyond the vessel map's: (mass - c_P) / (1 - c_P); "
                "0 = the vessel prior, 1 = all relevance in the target."
            ),
        )
    ]


@hookimpl
def ropbench_register_metrics() -> list[MetricSpec]:
    return specs()
