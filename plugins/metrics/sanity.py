"""Cascading model-parameter randomisation (Adebayo et al., "Sanity checks for
saliency maps"), for CNNs and ViTs alike.

The trained model's parameters are split into groups (a top-level layer, or one
numbered block: ``features.3``, ``blocks.7``, ``head``, ``cls_token``, ``pos_embed``,
``patch_embed``) ordered from the output back to the input: for a timm ViT that is
head, final norm, the blocks from last to first, then the patch embedding, position
embedding and class token, so embeddings are randomised too. Groups are replaced,
cumulatively from the output, by the parameters of a fresh untrained copy built by
``inputs.build_model`` under the ``seed`` parameter (one seed for all five specs, so they
share one cascade; it is recorded with the parameters); at 25, 50, 75 and 100 % of the groups the
images are explained again and each new map is compared with the trained model's map
by Spearman rank correlation (average ranks for ties; optionally of absolute values).

A map that stays similar while the model is randomised does not depend on what the
model learned: lower similarity is better. ``randomization-pass`` is 1 for an image
whose similarity after randomising every group is below ``threshold``.

Cost: four ``explain`` calls per image (one per depth), shared by all sanity metrics.
"""

from __future__ import annotations

import copy
import math
import re
from typing import Callable

import torch
from torch import nn

from ropbench.specs import MetricSpec, ScoringInputs
from ropbench_plugins.metrics._inputs import LastInputsMemo, require

__all__ = [
    "RANDOMIZED_PERCENTS",
    "parameter_groups",
    "average_ranks",
    "spearman_similarity",
    "cascading_randomization",
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


def _random_parameters(model: nn.Module, inputs: ScoringInputs, seed: int) -> dict[str, torch.Tensor]:
    """Parameters of a fresh untrained model, reproducibly (or seeded noise without one)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if inputs.build_model is not None:
            fresh = inputs.build_model()
            return {name: p.detach() for name, p in fresh.named_parameters()}
        generator = torch.Generator().manual_seed(seed)
        return {
            name: torch.randn(p.shape, generator=generator) * max(float(p.detach().float().std()) if p.numel() > 1 else 0.0, 0.02)
            for name, p in model.named_parameters()
        }


def cascading_randomization(inputs: ScoringInputs, absolute: bool = False, seed: int = 0) -> dict[int, torch.Tensor]:
    """{percent of groups randomised: Spearman similarity float64 [N]}.

    ``seed`` seeds the fresh model (or the noise) that replaces the parameters.
    """
    model, images, targets, heatmaps, explain = require(
        inputs, "model", "images", "targets", "heatmaps", "explain"
    )
    randomized = copy.deepcopy(model)
    groups = parameter_groups(randomized)
    replacements = _random_parameters(randomized, inputs, seed)
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
        explained = explain(randomized, images, targets).detach().cpu()
        similarities[percent] = spearman_similarity(reference, explained.abs() if absolute else explained)
    return similarities


_memo = LastInputsMemo()


def _cached(inputs: ScoringInputs, absolute: bool, seed: int) -> dict[int, torch.Tensor]:
    # One cascade serves all five specs: they share the model, images, maps, explain
    # function and the randomisation seed (a parameter, not the per-metric seed).
    objects = require(inputs, "model", "images", "targets", "heatmaps", "explain")
    return _memo.get(objects, (absolute, seed), lambda: cascading_randomization(inputs, absolute, seed))


def _similarity_at(percent: int) -> Callable[..., torch.Tensor]:
    def compute(inputs: ScoringInputs, absolute: bool = False, seed: int = 0) -> torch.Tensor:
        return _cached(inputs, bool(absolute), int(seed))[percent].clone()

    return compute


def _passed(inputs: ScoringInputs, absolute: bool = False, threshold: float = 0.5, seed: int = 0) -> torch.Tensor:
    return (_cached(inputs, bool(absolute), int(seed))[100] < threshold).to(torch.float64)


def sanity_specs() -> list[MetricSpec]:
    """``randomization-spearman@{25,50,75,100}`` and ``randomization-pass``."""
    specs = [
        MetricSpec(
            name=f"randomization-spearman@{percent}",
            kind="sanity",
            higher_is_better=False,
            compute=_similarity_at(percent),
            version="1",
            params={"absolute": False, "seed": 0},
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
            version="1",
            params={"absolute": False, "threshold": 0.5, "seed": 0},
            description="1 where the map's Spearman similarity after full randomisation is below `threshold`.",
        )
    )
    return specs
