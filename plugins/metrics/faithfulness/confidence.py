"""Average drop, average increase, coherency, complexity and ADCC.

Definitions (Chattopadhay et al., Grad-CAM++; Poppi et al., "Revisiting the evaluation
of class activation mapping", as used by Thota et al.), per image, with S the heatmap
min-max scaled to [0, 1] (:func:`unit_saliency`) and the explanation-masked image
x' = b + S * (x - b) (b the baseline; "black" gives the papers' x * S in pixel space):

- average drop = max(0, Y - O) / Y, Y and O the target probabilities of x and x'
  (lower is better);
- average increase = 1 if O > Y else 0 (higher is better);
- coherency = (PCC(S, S') + 1) / 2, S' the scaled map of x' from the same explainer
  (higher is better); two maps either of which is constant count as correlation 1
  when equal and 0 otherwise;
- complexity = mean of S, its L1 norm per pixel (lower is better);
- ADCC = 3 / (1 / coherency + 1 / (1 - complexity) + 1 / (1 - average drop)), the
  harmonic mean; 0 when any of the three terms is 0.

Model forwards: 2 per image (x and x'), shared through ``context.shared`` (key
``("masked-pass", baseline, random_map, seed where it matters)``) by the four metrics
that need them (not complexity, which reads the map only); coherency and ADCC share one
extra ``reexplain`` call per image (``rows = arange(N)``: masked image i derives from
explained image i). ``batch_size`` changes speed only (an execution parameter).
"""

from __future__ import annotations

from typing import Callable

import torch

from ropbench.specs import MetricSpec, ScoringContext
from ropbench_plugins.metrics.faithfulness.perturbation import (
    baseline_images,
    target_probabilities,
    unit_saliency,
)

__all__ = ["confidence_specs", "masked_pass", "map_correlation"]

def masked_pass(
    context: ScoringContext, seed: int, baseline: str, batch_size: int, *, random_map: bool = False
) -> dict[str, torch.Tensor]:
    """Y, O, S and x' for ``context``, shared by the five metrics of this module.

    ``random_map`` replaces the heatmaps by one seeded uniformly random map per image
    (``seed`` + 1), for chance levels. The pass is computed once per context; the seed
    is part of the key only where it matters (random maps, noise baselines), and the
    batch size never is (it changes speed only).
    """
    seeded = random_map or baseline == "noise"
    key = ("masked-pass", baseline, bool(random_map), int(seed) if seeded else None)
    return context.shared.get(key, lambda: _masked_pass(context, seed, baseline, batch_size, random_map))


def _masked_pass(
    context: ScoringContext, seed: int, baseline: str, batch_size: int, random_map: bool
) -> dict[str, torch.Tensor]:
    model, images, targets, heatmaps = context.require("model", "images", "targets", "heatmaps")
    if random_map:
        generator = torch.Generator().manual_seed(int(seed) + 1)
        heatmaps = torch.rand(heatmaps.shape, generator=generator)
    saliency = unit_saliency(heatmaps.detach()).to(images.device, images.dtype)
    base = baseline_images(images, baseline, seed)
    masked = base + saliency[:, None] * (images - base)
    result = {
        "saliency": saliency.cpu(),
        "masked": masked,
        "full": target_probabilities(model, images, targets, batch_size),
        "explained": target_probabilities(model, masked, targets, batch_size),
    }
    return result


def map_correlation(first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
    """float64 [N]: Pearson correlation of two map batches [N, H, W]."""
    a = first.flatten(1).to(torch.float64)
    b = second.flatten(1).to(torch.float64)
    a = a - a.mean(1, keepdim=True)
    b = b - b.mean(1, keepdim=True)
    norm = a.norm(dim=1) * b.norm(dim=1)
    correlation = (a * b).sum(1) / norm.clamp(min=1e-300)
    equal = (first.flatten(1) == second.flatten(1)).all(1)
    degenerate = torch.where(equal, 1.0, 0.0).to(torch.float64)
    return torch.where(norm > 0, correlation.clamp(-1.0, 1.0), degenerate)


def _average_drop(state: dict) -> torch.Tensor:
    full, explained = state["full"], state["explained"]
    return (full - explained).clamp(min=0) / full.clamp(min=1e-12)


def _average_increase(state: dict) -> torch.Tensor:
    return (state["explained"] > state["full"]).to(torch.float64)


def _complexity(state: dict) -> torch.Tensor:
    return state["saliency"].flatten(1).to(torch.float64).mean(1)


def _coherency(state: dict, context: ScoringContext) -> torch.Tensor:
    if "coherency" not in state:
        model, targets, reexplain = context.require("model", "targets", "reexplain")
        rows = torch.arange(state["masked"].shape[0])
        second = reexplain(model, state["masked"], targets, rows).detach().cpu()
        state["coherency"] = (map_correlation(state["saliency"], unit_saliency(second)) + 1) / 2
    return state["coherency"]


def _adcc(state: dict, context: ScoringContext) -> torch.Tensor:
    terms = torch.stack(
        [_coherency(state, context), 1 - _complexity(state), 1 - _average_drop(state)]
    )
    harmonic = 3 / (1 / terms.clamp(min=1e-300)).sum(0)
    return torch.where((terms > 0).all(0), harmonic, 0.0).to(torch.float64)


_FORMULAS: dict[str, tuple[Callable, bool, str]] = {
    # name: (formula(state, context), higher_is_better, description)
    "average-drop": (lambda s, i: _average_drop(s), False,
                     "Relative drop of the target probability when the image is masked by its map."),
    "average-increase": (lambda s, i: _average_increase(s), True,
                         "Whether masking the image by its map raises the target probability."),
    "coherency": (_coherency, True,
                  "Correlation (mapped to [0, 1]) of the map with the map of the masked image."),
    "complexity": (lambda s, i: _complexity(s), False,
                   "Mean of the min-max scaled map: how much of the image it marks."),
    "adcc": (_adcc, True,
             "Harmonic mean of coherency, 1 - complexity and 1 - average drop."),
}


def _compute(name: str) -> Callable[..., torch.Tensor]:
    formula = _FORMULAS[name][0]
    if name == "complexity":  # needs the map only: no model pass

        def complexity(
            context: ScoringContext, seed: int, baseline: str = "black", batch_size: int = 64
        ) -> torch.Tensor:
            (heatmaps,) = context.require("heatmaps")
            return _complexity({"saliency": unit_saliency(heatmaps.detach()).cpu()})

        return complexity

    def compute(context: ScoringContext, seed: int, baseline: str = "black", batch_size: int = 64) -> torch.Tensor:
        return formula(masked_pass(context, seed, baseline, int(batch_size)), context).clone()

    return compute


def _random_map_chance(name: str) -> Callable[..., torch.Tensor]:
    """Single seeded draw of a uniformly random map (average drop / increase)."""
    formula = _FORMULAS[name][0]

    def chance(context: ScoringContext, seed: int, baseline: str = "black", batch_size: int = 64) -> torch.Tensor:
        return formula(masked_pass(context, seed, baseline, int(batch_size), random_map=True), context).clone()

    return chance


def _complexity_chance(
    context: ScoringContext, seed: int, baseline: str = "black", batch_size: int = 64
) -> torch.Tensor:
    # min-max scaled i.i.d. uniform pixels: u -> 1 - u maps the scaled map to 1 minus
    # itself, so its expected mean is exactly 1/2.
    (heatmaps,) = context.require("heatmaps")
    return torch.full((heatmaps.shape[0],), 0.5, dtype=torch.float64)


def confidence_specs() -> list[MetricSpec]:
    """``average-drop``, ``average-increase``, ``coherency``, ``complexity``, ``adcc``."""
    chances = {
        "average-drop": _random_map_chance("average-drop"),
        "average-increase": _random_map_chance("average-increase"),
        "complexity": _complexity_chance,
    }
    return [
        MetricSpec(
            name=name,
            kind="faithfulness",
            higher_is_better=higher_is_better,
            compute=_compute(name),
            chance=chances.get(name),
            bounds=(0.0, 1.0),
            version="1",
            params={"baseline": "black", "batch_size": 64},
            execution_params=frozenset({"batch_size"}),
            description=description,
        )
        for name, (_, higher_is_better, description) in _FORMULAS.items()
    ]

