"""The heatmap as a pixel classifier of the mask: average precision and ROC-AUC.

Both are computed from one sorted pass (:mod:`.pixel_ranking`) and agree with
scikit-learn's ``average_precision_score`` and ``roc_auc_score`` including ties
(average precision steps once per distinct value; ROC-AUC counts tied
mask/background pairs as one half). Both are invariant under strictly increasing
transforms of the heatmap.
"""

from __future__ import annotations

import math

import torch

from ropbench import hookimpl
from ropbench.specs import MetricSpec, ScoringContext
from ropbench_plugins.metrics._context import heatmaps_and_masks, mask_pixel_counts
from ropbench_plugins.metrics.chance_levels import expected_average_precision
from ropbench_plugins.metrics.pixel_ranking import shared_ranking
from ropbench_plugins.metrics.thresholded import PERCENTILES

__all__ = ["ropbench_register_metrics", "threshold_free_specs"]


def _average_precision(context: ScoringContext, seed: int) -> torch.Tensor:
    return torch.from_numpy(shared_ranking(context, PERCENTILES).average_precision.copy())


def _average_precision_chance(context: ScoringContext, seed: int) -> torch.Tensor:
    _, masks = heatmaps_and_masks(context)
    return expected_average_precision(mask_pixel_counts(context), masks.shape[1] * masks.shape[2])


def _roc_auc(context: ScoringContext, seed: int) -> torch.Tensor:
    return torch.from_numpy(shared_ranking(context, PERCENTILES).roc_auc.copy())


def _roc_auc_chance(context: ScoringContext, seed: int) -> torch.Tensor:
    _, masks = heatmaps_and_masks(context)
    mask_pixels = mask_pixel_counts(context)
    pixels = masks.shape[1] * masks.shape[2]
    # Undefined (NaN) like the score itself when the mask is empty or covers everything.
    defined = (mask_pixels > 0) & (mask_pixels < pixels)
    return torch.where(defined, 0.5, math.nan).to(torch.float64)


def threshold_free_specs() -> list[MetricSpec]:
    """``auprc`` and ``pixel-auroc``."""
    return [
        MetricSpec(
            name="auprc",
            kind="localization",
            higher_is_better=True,
            compute=_average_precision,
            chance=_average_precision_chance,
            bounds=(0.0, 1.0),
            version="1",
            params={},
            description="Average precision of the heatmap ranking pixels into mask / background.",
        ),
        MetricSpec(
            name="pixel-auroc",
            kind="localization",
            higher_is_better=True,
            compute=_roc_auc,
            chance=_roc_auc_chance,
            bounds=(0.0, 1.0),
            version="1",
            params={},
            description=(
                "ROC-AUC of the heatmap as a pixel classifier of the mask: the chance that "
                "a mask pixel outranks a background pixel (ties count 1/2)."
            ),
        ),
    ]


@hookimpl
def ropbench_register_metrics() -> list[MetricSpec]:
    return threshold_free_specs()
