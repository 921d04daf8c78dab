"""Cascading model-parameter randomisation (Adebayo et al., "Sanity checks for
saliency maps"), for CNNs and ViTs alike.

The trained model's parameters are split into groups (a top-level layer, or one
numbered block: ``features.3``, ``blocks.7``, ``head``, ``cls_token``, ``pos_embed``,
``patch_embed``) ordered from the output back to the input: for a timm ViT that is
head, final norm, the blocks from last to first, then the patch embedding, position
embedding and class token, so embeddings are randomised too. Groups are replaced,
cumulatively from the output, by the parameters of a fresh untrained copy built by
``context.build_fresh_model`` under the ``randomization_seed`` parameter (one seed for
all five specs, so they share one cascade; it is recorded with the parameters, and is
not the metric's own seed); at 25, 50, 75 and 100 % of the groups the images are
explained again (``context.reexplain`` with ``rows = arange(N)``: image i is explained
image i) and each new map is compared with the trained model's map by Spearman rank
correlation (average ranks for ties; optionally of absolute values).

A map that stays similar while the model is randomised does not depend on what the
model learned: lower similarity is better. ``randomization-pass`` is 1 for an image
whose similarity after randomising every group is below ``threshold``.

Cost: four ``reexplain`` calls per image (one per depth), shared by all sanity metrics
through ``context.shared`` (key ``("randomization-cascade", absolute, randomization_seed)``).
"""

from __future__ import annotations

import copy
import math
import re
from typing import Callable

import torch
from torch import nn

from ropbench import hookimpl
from ropbench.specs import MetricSpec, ScoringContext

__all__ = ["ropbench_register_metrics", 
    "RANDOMIZED_PERCENTS",
    "parameter_groups",
    "average_ranks",
    "spearman_similarity",
    "cascading_randomization",
    "shared_cascade",
    "sanity_specs",
]

RANDOMIZED_PERCENTS: tuple[int, ...] = (25, 50, 75, 100)


def parameter_groups(model: nn.Module) -> list[list[str]]:
    """Parameter names grouped by layer or numbered block, output side first."""
    groups: dict[str, list[str]] = {}
    for name, _ in model.named_parameters():
        parts = name.split(".")
        numbered = next((i for i, part in enumerate(parts[:-1]) if re.fullmatch(r"\d+", part)), None)
        key = ".".join(parts[: numbered + 1]) if numbered is not None else parts[0]
        groups.setdefault(key, []).append(name)
    return list(reversed(list(groups.values())))


def average_ranks(maps: torch.Tensor) -> torch.Tensor:
    """float64 [N, P]: ranks (0-based) of each flattened map, ties given their average."""
    flat = maps.flatten(1).to(torch.float64)
    count, pixels = flat.shape
    values, order = torch.sort(flat, dim=1)
    positions = torch.arange(pixels).expand(count, pixels)
    new_group = torch.ones_like(values, dtype=torch.bool)
    new_group[:, 1:] = values[:, 1:] != values[:, :-1]
    first = torch.cummax(torch.where(new_group, positions, 0), 1).values
    # last position of each group: the same on the reversed sequence
    ends = torch.ones_like(new_group)
    ends[:, :-1] = new_group[:, 1:]
    last = torch.where(ends, positions, pixels - 1).flip(1)
    last = torch.cummin(last, 1).values.flip(1)
    sorted_ranks = (first + last).to(torch.float64) / 2
    return torch.empty_like(sorted_ranks).scatter_(1, order, sorted_ranks)


def spearman_similarity(first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
    """float64 [N]: Spearman correlation per map pair; 1 for two constant maps, 0 when
    only one is constant (it carries no ranking)."""
    a = average_ranks(first)
    b = average_ranks(second)
    a = a - a.mean(1, keepdim=True)
    b = b - b.mean(1, keepdim=True)
    norm = a.norm(dim=1) * b.norm(dim=1)
    both_constant = (a.abs().amax(1) == 0) & (b.abs().amax(1) == 0)
    fallback = torch.where(both_constant, 1.0, 0.0).to(torch.float64)
    return torch.where(norm > 0, ((a * b).sum(1) / norm.clamp(min=1e-300)).clamp(-1, 1), fallback)


def _random_parameters(model: nn.Module, context: ScoringContext, seed: int) -> dict[str, torch.Tensor]:
    """Parameters of a fresh untrained model, reproducibly (or seeded noise without one)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if context.build_fresh_model is not None:
            fresh = context.build_fresh_model()
            return {name: p.detach() for name, p in fresh.named_parameters()}
        generator = torch.Generator().manual_seed(seed)
        return {
            name: torch.randn(p.shape, generator=generator) * max(float(p.detach().float().std()) if p.numel() > 1 else 0.0, 0.02)
            for name, p in model.named_parameters()
        }


def cascading_randomization(
    context: ScoringContext, absolute: bool = False, randomization_seed: int = 0
) -> dict[int, torch.Tensor]:
    """{percent of groups randomised: Spearman similarity float64 [N]}.

    ``randomization_seed`` seeds the fresh model (or the noise) that replaces the
    parameters.
    """
    model, images, targets, heatmaps, reexplain = context.require(
        "model", "images", "targets", "heatmaps", "reexplain"
    )
    rows = torch.arange(images.shape[0])
    randomized = copy.deepcopy(model)
    groups = parameter_groups(randomized)
    replacements = _random_parameters(randomized, context, randomization_seed)
    parameters = dict(randomized.named_parameters())
    reference = heatmaps.detach().cpu()
    reference = reference.abs() if absolute else reference
    similarities: dict[int, torch.Tensor] = {}
    done = 0
    for percent in RANDOMIZED_PERCENTS:
        depth = math.ceil(percent / 100 * len(groups))
        with torch.no_grad():
            for group in groups[done:depth]:
                for name in group:
                    parameters[name].copy_(replacements[name].to(parameters[name].device))
        done = depth
        explained = reexplain(randomized, images, targets, rows).detach().cpu()
        similarities[percent] = spearman_similarity(reference, explained.abs() if absolute else explained)
    return similarities


def shared_cascade(context: ScoringContext, absolute: bool, randomization_seed: int) -> dict[int, torch.Tensor]:
    """:func:`cascading_randomization`, once per context for each (absolute, seed)."""
    # One cascade serves all five specs: they share the model, images, maps and the
    # randomisation seed (a parameter, not the per-metric seed).
    key = ("randomization-cascade", bool(absolute), int(randomization_seed))
    return context.shared.get(
        key, lambda: cascading_randomization(context, bool(absolute), int(randomization_seed))
    )


def _similarity_at(percent: int) -> Callable[..., torch.Tensor]:
    def compute(
        context: ScoringContext, seed: int, absolute: bool = False, randomization_seed: int = 0
    ) -> torch.Tensor:
        return shared_cascade(context, absolute, randomization_seed)[percent].clone()

    return compute


def _passed(
    context: ScoringContext, seed: int, absolute: bool = False, threshold: float = 0.5, randomization_seed: int = 0
) -> torch.Tensor:
    return (shared_cascade(context, absolute, randomization_seed)[100] < threshold).to(torch.float64)


def sanity_specs() -> list[MetricSpec]:
    """``randomization-spearman@{25,50,75,100}`` and ``randomization-pass``."""
    specs = [
        MetricSpec(
            name=f"randomization-spearman@{percent}",
            kind="sanity",
            higher_is_better=False,
            compute=_similarity_at(percent),
            bounds=(-1.0, 1.0),
            version="1",
            params={"absolute": False, "randomization_seed": 0},
            description=(
                f"Spearman similarity of the map to the map after randomising {percent}% of "
                "the parameter groups from the output (lower: the map depends on the weights)."
            ),
        )
        for percent in RANDOMIZED_PERCENTS
    ]
    specs.append(
        MetricSpec(
            name="randomization-pass",
            kind="sanity",
            higher_is_better=True,
            compute=_passed,
            bounds=(0.0, 1.0),
            version="1",
            params={"absolute": False, "threshold": 0.5, "randomization_seed": 0},
            description="1 where the map's Spearman similarity after full randomisation is below `threshold`.",
        )
    )
    return specs


@hookimpl
def ropbench_register_metrics() -> list[MetricSpec]:
    return sanity_specs()
