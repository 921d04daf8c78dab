"""Does the heatmap put its heat where straightening a vessel changes the model's mind?
(``intervention-rank``, ``intervention-hit``; DESIGN.md, "Interventions beat
correlations")

Where the generator can intervene, ``context.straighten(row)`` re-renders explained
image ``row`` once per tortuous stretch with that stretch straightened
(:class:`ropbench.specs.StretchInterventions`). For each stretch s:

- drop_s = the model's ROP logit (class 1) on the original image minus on the
  straightened one (``context.model`` on :func:`ropbench.imaging.to_model_input`, eval
  mode, no gradient): how much the model relied on that stretch being tortuous;
- heat_s = the mean of the heatmap over the stretch's own vessel pixels (``stretches[s]``
  and :func:`ropbench.vessels.vessel_pixels` of ``context.vessels``, as every
  prior-controlled metric reads heat); stretches without such a pixel are left out. So
  the vessel-map control puts the same heat on every stretch and scores exactly chance.

- ``intervention-rank``: the Spearman correlation over the image's stretches between
  heat and drop (average ranks for ties). 0 when the heat is the same on every stretch
  (a map that ranks nothing carries no information).
- ``intervention-hit``: 1 when the hottest stretch has the largest drop; with several
  equally hot stretches, the share of them that have the largest drop (the expected hit
  of picking one at random). Ties in drop: every stretch with the largest drop counts.

Both are NaN when the image has fewer than 2 stretches, when ``straighten`` returns None
(or the context has no ``straighten``: the generator cannot intervene), when all drops
are equal (nothing to rank against) or when the map has a NaN or infinite value.

Chance (a uniformly random map): rank 0 exactly (each stretch's mean heat is symmetric
about 1/2, so every stretch has the same expected rank); hit = the probability that a
stretch with the largest drop has the hottest mean, where stretch s's mean of n_s
independent uniform pixels is taken as normal with mean 1/2 and variance 1/(12 n_s)
(central limit; stretches differ in size, so this is not 1/S: a small stretch's mean
strays further and wins more often), integrated numerically per image.

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
from ropbench.vessels import vessel_pixels
from ropbench_plugins.metrics._context import finite_rows
from ropbench_plugins.metrics.faithfulness.perturbation import evaluation_mode, model_device

__all__ = ["ropbench_register_metrics", "StretchResponses", "intervention_responses", "shared_responses", "stretch_rank", "stretch_hit", "specs"]

ROP_CLASS = 1


@dataclass(frozen=True)
class StretchResponses:
    """One image's stretches: mean heat, logit drop and pixels heat was read on, [S] each."""

    heat: np.ndarray
    drop: np.ndarray
    pixels: np.ndarray


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
    vessels: torch.Tensor | None = None,
) -> list[StretchResponses | None]:
    """Per explained image, the heat and the logit drop of every stretch (None where
    ``straighten`` gives nothing). ``images`` are the model inputs of the originals;
    ``vessels`` (the vessel planes) restricts each stretch to its vessel pixels."""
    originals = _rop_logits(model, images, batch_size)
    heatmaps = heatmaps.detach().cpu()
    on_vessels = vessel_pixels(vessels.detach().cpu()) if vessels is not None else None
    heats: list[np.ndarray | None] = []
    sizes: list[np.ndarray] = []
    pending: list[torch.Tensor] = []  # straightened uint8 images, forwarded in batches
    logits: list[torch.Tensor] = []
    counts: list[int] = []
    for row in range(images.shape[0]):
        interventions = straighten(row)
        if interventions is None or len(interventions) == 0:
            heats.append(None)
            sizes.append(np.zeros(0))
            counts.append(0)
            continue
        stretches = interventions.stretches.to("cpu", torch.bool)
        if on_vessels is not None:
            stretches = stretches & on_vessels[row]
        pixels = stretches.flatten(1).sum(1)
        keep = pixels > 0
        heatmap = heatmaps[row].flatten().to(torch.float64)
        heat = (stretches.flatten(1).to(torch.float64) @ heatmap) / pixels.clamp(min=1)
        heats.append(heat[keep].numpy())
        sizes.append(pixels[keep].numpy())
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
    for row, (heat, size, count) in enumerate(zip(heats, sizes, counts)):
        if heat is None:
            responses.append(None)
            continue
        drop = float(originals[row]) - straightened[start : start + count]
        responses.append(StretchResponses(heat=heat, drop=drop, pixels=size.astype(np.float64)))
        start += count
    return responses


def shared_responses(context: ScoringContext, batch_size: int) -> list[StretchResponses | None]:
    """:func:`intervention_responses` of ``context``, once per context (all None when the
    context cannot straighten)."""

    def compute() -> list[StretchResponses | None]:
        model, images, heatmaps = context.require("model", "images", "heatmaps")
        if context.straighten is None:
            return [None] * images.shape[0]
        return intervention_responses(model, images, heatmaps, context.straighten, int(batch_size),
                                      context.vessels)

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


def random_hit_probability(pixels: np.ndarray, winners: np.ndarray) -> float:
    """P(the hottest stretch is one of ``winners``) for a uniformly random map, each
    stretch's mean heat normal with mean 1/2 and variance 1/(12 n): the integral of
    sum over winners of pdf_s(x) * prod over others of cdf_t(x)."""
    from scipy.stats import norm

    if np.all(pixels == pixels[0]):  # equal sizes: exchangeable means, exactly m / S
        return float(np.mean(winners))
    x = np.linspace(-0.5, 1.5, 4001)
    scale = np.sqrt(1.0 / (12.0 * np.maximum(pixels, 1.0)))
    cdf = norm.cdf(x[None, :], loc=0.5, scale=scale[:, None])
    pdf = norm.pdf(x[None, :], loc=0.5, scale=scale[:, None])
    total = 0.0
    for s in np.flatnonzero(winners):
        others = np.prod(np.delete(cdf, s, axis=0), axis=0)
        total += float(np.trapezoid(pdf[s] * others, x))
    return float(np.clip(total, 0.0, 1.0))


def _hit_chance(context: ScoringContext, seed: int, batch_size: int = 64) -> torch.Tensor:
    return _per_image(
        context, batch_size,
        lambda response: random_hit_probability(response.pixels, response.drop == response.drop.max()),
    )


def specs() -> list[MetricSpec]:
    """``intervention-rank`` and ``intervention-hit``."""
    common = dict(
        kind="localization",
        higher_is_better=True,
        version="2",
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
