"""Does the heatmap put its heat where straightening a vessel changes the model's mind?
(``intervention-rank``, ``intervention-hit``; DESIGN.md, "Interventions beat
correlations")

Where the generator can intervene, ``context.straighten(row)`` re-renders explained
image ``row`` once per tortuous stretch with that stretch straightened
(:class:`ropbench.specs.StretchInterventions`). For each stretch s:

- drop_s = the model's ROP logit (class 1) on the original image minus on the
  straightened one (``context.model`` on :func:`ropbench.imaging.to_model_input`, eval
  mode, no gradient): how much the model relied on that stretch being tortuous;
- heat_s = the mean of the heatmap over the stretch's own pixels (``stretches[s]``);
  stretches without a pixel are left out.

- ``intervention-rank``: the Spearman correlation over the image's stretches between
  heat and drop (average ranks for ties). 0 when the heat is the same on every stretch
  (a map that ranks nothing carries no information).
- ``intervention-hit``: 1 when the hottest stretch has the largest drop; with several
  equally hot stretches, the share of them that have the largest drop (the expected hit
  of picking one at random). Ties in drop: every stretch with the largest drop counts.

Both are NaN when the image has fewer than 2 stretches, when ``straighten`` returns None
(or the context has no ``straighten``: the generator cannot intervene), when all drops
are equal (nothing to rank against) or when the map has a NaN or infinite value.

Chance (a uniformly random map: its stretch heats are exchangeable and distinct): rank
0 exactly (a uniformly random ordering); hit = m / S, m the number of stretches with
the largest drop (1 / S without ties), exactly.

Cost per image: one model forward per stretch plus one for the original (batched by
``batch_size``, an execution parameter), and one ``straighten`` call (a re-render per
stretch); the pass is shared by both metrics and their chance levels through
``context.shared`` (key ``("intervention-drops",)``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from ropbench import hookimpl
from ropbench.imaging import to_model_input
from ropbench.specs import MetricSpec, ScoringContext
from ropbench_plugins.metrics._context import finite_rows
from ropbench_plugins.metrics.faithfulness.perturbation import evaluation_mode, model_device

__all__ = ["ropbench_register_metrics", "StretchResponses", "intervention_responses", "shared_responses", "stretch_rank", "stretch_hit", "specs"]

ROP_CLASS = 1


@dataclass(frozen=True)
class StretchResponses:
    """One image's stretches: mean heat and logit drop, float64 [S] each."""

    heat: np.ndarray
    drop: np.ndarray


def _rop_logits(model: torch.nn.Module, images: torch.Tensor, batch_size: int) -> torch.Tensor:
    """float64 [M]: class-1 logits of model inputs ``images``, ``batch_size`` at a time."""
    device = model_device(model)
    logits = []
    with torch.inference_mode(), evaluation_mode(model):
        for start in range(0, images.shape[0], batch_size):
            batch = images[start : start + batch_size].to(device)
            logits.append(model(batch)[:, ROP_CLASS].detach().to("cpu", torch.float64))
    return torch.cat(logits) if logits else torch.zeros(0, dtype=torch.float64)


def intervention_responses(
    model: torch.nn.Module,
    images: torch.Tensor,
    heatmaps: torch.Tensor,
    straighten: Callable[[int], object],
    batch_size: int,
) -> list[StretchResponses | None]:
    """Per explained image, the heat and the logit drop of every stretch (None where
    ``straighten`` gives nothing). ``images`` are the model inputs of the originals."""
    originals = _rop_logits(model, images, batch_size)
    heatmaps = heatmaps.detach().cpu()
    heats: list[np.ndarray | None] = []
    pending: list[torch.Tensor] = []  # straightened uint8 images, forwarded in batches
    logits: list[torch.Tensor] = []
    counts: list[int] = []
    for row in range(images.shape[0]):
        interventions = straighten(row)
        if interventions is None or len(interventions) == 0:
            heats.append(None)
            counts.append(0)
            continue
        stretches = interventions.stretches.to("cpu", torch.bool)
        pixels = stretches.flatten(1).sum(1)
        keep = pixels > 0
        heatmap = heatmaps[row].flatten().to(torch.float64)
        heat = (stretches.flatten(1).to(torch.float64) @ heatmap) / pixels.clamp(min=1)
        heats.append(heat[keep].numpy())
        counts.append(int(keep.sum()))
        pending.extend(interventions.images[keep].cpu())
        while len(pending) >= batch_size:
            batch, pending = pending[:batch_size], pending[batch_size:]
            logits.append(_rop_logits(model, to_model_input(torch.stack(batch)), batch_size))
    if pending:
        logits.append(_rop_logits(model, to_model_input(torch.stack(pending)), batch_size))
    straightened = torch.cat(logits).numpy() if logits else np.zeros(0)
    responses: list[StretchResponses | None] = []
    start = 0
    for row, (heat, count) in enumerate(zip(heats, counts)):
        if heat is None:
            responses.append(None)
            continue
        drop = float(originals[row]) - straightened[start : start + count]
        responses.append(StretchResponses(heat=heat, drop=drop))
        start += count
    return responses


def shared_responses(context: ScoringContext, batch_size: int) -> list[StretchResponses | None]:
    """:func:`intervention_responses` of ``context``, once per context (all None when the
    context cannot straighten)."""

    def compute() -> list[StretchResponses | None]:
        model, images, heatmaps = context.require("model", "images", "heatmaps")
        if context.straighten is None:
            return [None] * images.shape[0]
        return intervention_responses(model, images, heatmaps, context.straighten, int(batch_size))

    return context.shared.get(("intervention-drops",), compute)


def _informative(response: StretchResponses | None) -> bool:
    return response is not None and response.drop.size >= 2 and np.ptp(response.drop) > 0


def stretch_rank(response: StretchResponses) -> float:
    """Spearman correlation of heat and drop (average ranks); 0 for a constant heat."""
    from scipy.stats import rankdata  # imported late: scipy.stats is slow to import

    if np.ptp(response.heat) == 0:
        return 0.0
    correlation = np.corrcoef(rankdata(response.heat), rankdata(response.drop))[0, 1]
    return float(np.clip(correlation, -1.0, 1.0))


def stretch_hit(response: StretchResponses) -> float:
    """Share of the hottest stretches that have the largest drop."""
    hottest = response.heat == response.heat.max()
    largest = response.drop == response.drop.max()
    return float((hottest & largest).sum() / hottest.sum())


def _per_image(
    context: ScoringContext, batch_size: int, formula: Callable[[StretchResponses], float]
) -> torch.Tensor:
    responses = shared_responses(context, batch_size)
    finite = finite_rows(context).tolist()
    values = [
        formula(response) if ok and _informative(response) else math.nan
        for response, ok in zip(responses, finite)
    ]
    return torch.tensor(values, dtype=torch.float64)


def _rank(context: ScoringContext, seed: int, batch_size: int = 64) -> torch.Tensor:
    return _per_image(context, batch_size, stretch_rank)


def _rank_chance(context: ScoringContext, seed: int, batch_size: int = 64) -> torch.Tensor:
    return _per_image(context, batch_size, lambda response: 0.0)


def _hit(context: ScoringContext, seed: int, batch_size: int = 64) -> torch.Tensor:
    return _per_image(context, batch_size, stretch_hit)


def _hit_chance(context: ScoringContext, seed: int, batch_size: int = 64) -> torch.Tensor:
    return _per_image(
        context, batch_size, lambda response: float((response.drop == response.drop.max()).mean())
    )


def specs() -> list[MetricSpec]:
    """``intervention-rank`` and ``intervention-hit``."""
    common = dict(
        kind="localization",
        higher_is_better=True,
        version="1",
        params={"batch_size": 64},
        execution_params=frozenset({"batch_size"}),
    )
    return [
        MetricSpec(
            name="intervention-rank",
            compute=_rank,
            chance=_rank_chance,
            bounds=(-1.0, 1.0),
            description=(
                "Spearman correlation over an image's tortuous stretches between the heat on a "
                "stretch and the drop of the ROP logit when that stretch is straightened."
            ),
            **common,
        ),
        MetricSpec(
            name="intervention-hit",
            compute=_hit,
            chance=_hit_chance,
            bounds=(0.0, 1.0),
            description=(
                "Whether the hottest tortuous stretch is the one whose straightening drops the "
                "ROP logit most (tied heat split fairly)."
            ),
            **common,
        ),
    ]


@hookimpl
def ropbench_register_metrics() -> list[MetricSpec]:
    return specs()
