"""Does the heatmap rank tortuous vessel pixels above healthy ones? (``vessel-auroc``,
``vessel-auprc``)

Only vessel pixels are ranked: S = :func:`ropbench.vessels.vessel_pixels` of
``context.vessels`` (the indicator, not weighted by the plane), T = S and
``context.tortuous_vessels`` (positives), H = S without T (negatives). A map that merely
lights up vessels, the ``vessel-map`` control (exactly the indicator of S), is constant
on S and so ranks nothing: it scores the chance level of ``vessel-auroc`` exactly.

- ``vessel-auroc``: the probability that a pixel of T outranks a pixel of H, ties one
  half: the Mann-Whitney U over |T| |H| with average ranks. Chance 1/2 (a uniformly
  random map ranks S uniformly; the constant vessel map ties everything).
- ``vessel-auprc``: average precision of the same ranking of S, one threshold per
  distinct heat value (scikit-learn's ``average_precision_score``). Chance: the exact
  expected average precision of a uniformly random ranking of |S| pixels with |T|
  positives, (|T|-1)/(|S|-1) + H_|S| |H| / (|S| (|S|-1)). The vessel map ties all of S
  and scores the prevalence |T| / |S|, below that chance by |H| (H_|S| - 1) /
  (|S| (|S| - 1)) (about 0.001 at 224 px): it never beats chance.

Both are NaN when T or H is empty or the map has a NaN or infinite value, and both are
invariant under strictly increasing transforms of the map. One sorted pass over the
vessel pixels (a sort per block of 16 images) serves both (:func:`shared_vessel_ranking`,
key ``("vessel-ranking",)``).
"""

from __future__ import annotations

import numpy as np
import torch

from ropbench import hookimpl
from ropbench.specs import MetricSpec, ScoringContext
from ropbench_plugins.metrics._blocks import map_blocks
from ropbench_plugins.metrics._context import finite_rows, flat_numpy, vessel_indicator
from ropbench_plugins.metrics.chance_levels import expected_average_precision
from ropbench_plugins.metrics.grouped_ranking import GroupedRanking, concatenate_rankings, rank_within_groups

__all__ = ["ropbench_register_metrics", "vessel_ranking", "shared_vessel_ranking", "specs"]


def _block_ranking(heat: np.ndarray, vessels: np.ndarray, tortuous: np.ndarray) -> GroupedRanking:
    vessel = vessel_indicator(vessels)
    where = np.flatnonzero(vessel)
    groups = np.repeat(np.arange(heat.shape[0], dtype=np.int64), np.count_nonzero(vessel, axis=1))
    return rank_within_groups(heat.ravel().take(where), groups, tortuous.ravel().take(where), heat.shape[0])


def vessel_ranking(heatmaps: torch.Tensor, vessels: torch.Tensor, tortuous_vessels: torch.Tensor) -> GroupedRanking:
    """Rank each image's vessel pixels S by heat, positives T = S and ``tortuous_vessels``
    (all [N, H, W]); ``positives`` and ``negatives`` are |T| and |H|."""
    if not heatmaps.shape == vessels.shape == tortuous_vessels.shape or heatmaps.dim() != 3:
        raise ValueError(
            f"heatmaps {tuple(heatmaps.shape)}, vessels {tuple(vessels.shape)} and tortuous_vessels "
            f"{tuple(tortuous_vessels.shape)} must be [N, H, W] of one shape"
        )
    heat = flat_numpy(heatmaps, torch.float32)
    plane = flat_numpy(vessels, torch.float32)
    tortuous = flat_numpy(tortuous_vessels, torch.bool)
    parts = map_blocks(heat.shape[0], lambda rows: _block_ranking(heat[rows], plane[rows], tortuous[rows]))
    return concatenate_rankings(parts)


def shared_vessel_ranking(context: ScoringContext) -> GroupedRanking:
    """:func:`vessel_ranking` of ``context``, once per context; non-finite maps NaN."""

    def compute() -> GroupedRanking:
        heatmaps, vessels, tortuous = context.require("heatmaps", "vessels", "tortuous_vessels")
        ranking = vessel_ranking(heatmaps, vessels, tortuous)
        unscored = ~finite_rows(context).numpy()
        ranking.roc_auc[unscored] = np.nan
        ranking.average_precision[unscored] = np.nan
        return ranking

    return context.shared.get(("vessel-ranking",), compute)


def _defined(ranking: GroupedRanking) -> torch.Tensor:
    return torch.from_numpy((ranking.positives > 0) & (ranking.negatives > 0))


def _vessel_auroc(context: ScoringContext, seed: int) -> torch.Tensor:
    return torch.from_numpy(shared_vessel_ranking(context).roc_auc.copy())


def _vessel_auroc_chance(context: ScoringContext, seed: int) -> torch.Tensor:
    return torch.where(_defined(shared_vessel_ranking(context)), 0.5, torch.nan).to(torch.float64)


def _vessel_auprc(context: ScoringContext, seed: int) -> torch.Tensor:
    ranking = shared_vessel_ranking(context)
    # Without a healthy vessel pixel every ranking scores 1: nothing was localized.
    return torch.from_numpy(np.where(ranking.negatives > 0, ranking.average_precision, np.nan))


def _vessel_auprc_chance(context: ScoringContext, seed: int) -> torch.Tensor:
    ranking = shared_vessel_ranking(context)
    tortuous = torch.from_numpy(ranking.positives)
    expected = expected_average_precision(tortuous, torch.from_numpy(ranking.positives + ranking.negatives))
    return torch.where(_defined(ranking), expected, torch.nan)


def specs() -> list[MetricSpec]:
    """``vessel-auroc`` and ``vessel-auprc``."""
    return [
        MetricSpec(
            name="vessel-auroc",
            kind="localization",
            higher_is_better=True,
            compute=_vessel_auroc,
            chance=_vessel_auroc_chance,
            bounds=(0.0, 1.0),
            version="1",
            params={},
            description=(
                "Among vessel pixels: the chance that a tortuous one outranks a healthy one "
                "(ties 1/2); the vessel map scores exactly 1/2."
            ),
        ),
        MetricSpec(
            name="vessel-auprc",
            kind="localization",
            higher_is_better=True,
            compute=_vessel_auprc,
            chance=_vessel_auprc_chance,
            bounds=(0.0, 1.0),
            version="1",
            params={},
            description="Average precision of the heatmap ranking vessel pixels into tortuous / healthy.",
        ),
    ]


@hookimpl
def ropbench_register_metrics() -> list[MetricSpec]:
    return specs()
