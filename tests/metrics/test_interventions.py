"""intervention-rank and intervention-hit with a model whose logit is known by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.stats import spearmanr
from torch import nn

from ropbench.imaging import to_model_input
from ropbench.specs import ScoringContext, StretchInterventions

from ._helpers import chance, score

SIZE = 6
# Three stretches on row 1 of a 6 x 6 image: columns {0, 1}, {2, 3} and {4, 5}.
STRETCHES = torch.zeros(3, SIZE, SIZE, dtype=torch.bool)
for index in range(3):
    STRETCHES[index, 1, 2 * index : 2 * index + 2] = True


class WeightedBrightness(nn.Module):
    """ROP logit = sum over pixels of weight x red brightness in [0, 1]; healthy logit 0."""

    def __init__(self, weights: torch.Tensor) -> None:
        super().__init__()
        self.weights = nn.Parameter(weights.clone())
        self.forwarded = 0

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        self.forwarded += images.shape[0]
        rop = ((images[:, 0] + 1) / 2 * self.weights).flatten(1).sum(1)
        return torch.stack([torch.zeros_like(rop), rop], 1)


def _weights(drops: list[float]) -> torch.Tensor:
    # each stretch pixel weighs half its stretch's drop: blacking out the two white
    # pixels of stretch s lowers the ROP logit by exactly drops[s]
    weights = torch.zeros(SIZE, SIZE)
    for index, drop in enumerate(drops):
        weights[STRETCHES[index]] = drop / 2
    return weights


def _straighten(original: torch.Tensor, stretches: torch.Tensor = STRETCHES):
    def straighten(row: int) -> StretchInterventions | None:
        if row == 1:  # a second image the generator cannot intervene on
            return None
        images = original.expand(len(stretches), -1, -1, -1).clone()
        images[stretches[:, None].expand_as(images)] = 0  # the stretch turned black
        return StretchInterventions(images=images, changed=stretches.clone(), stretches=stretches)

    return straighten


def _context(heat_per_stretch: list[float], drops: list[float], model=None, stretches=STRETCHES) -> ScoringContext:
    original = torch.full((3, SIZE, SIZE), 255, dtype=torch.uint8)
    heatmap = torch.zeros(SIZE, SIZE)
    for index, heat in enumerate(heat_per_stretch):
        heatmap[STRETCHES[index]] = heat
    heatmaps = torch.stack([heatmap, heatmap])
    model = model or WeightedBrightness(_weights(drops))
    return ScoringContext(
        labels=torch.ones(2, dtype=torch.int64), probabilities=torch.full((2, 2), 0.5),
        heatmaps=heatmaps, masks=torch.ones(2, SIZE, SIZE, dtype=torch.bool),
        images=to_model_input(original.expand(2, -1, -1, -1)), targets=torch.ones(2, dtype=torch.int64),
        model=model, straighten=_straighten(original, stretches),
    )


def test_heat_in_the_order_of_the_drops() -> None:
    context = _context([0.9, 0.1, 0.5], drops=[3.0, 1.0, 2.0])
    rank, hit = score("intervention-rank", context), score("intervention-hit", context)
    assert rank[0].item() == pytest.approx(1.0) and hit[0].item() == 1.0
    assert math.isnan(rank[1].item()) and math.isnan(hit[1].item())  # straighten gave None
    assert chance("intervention-rank", context)[0].item() == 0.0
    assert chance("intervention-hit", context)[0].item() == pytest.approx(1 / 3)


def test_heat_against_the_drops() -> None:
    context = _context([0.1, 0.9, 0.5], drops=[3.0, 1.0, 2.0])
    assert score("intervention-rank", context)[0].item() == pytest.approx(-1.0)
    assert score("intervention-hit", context)[0].item() == 0.0


def test_ties_in_heat_use_average_ranks_and_split_the_hit() -> None:
    # heat ranks (3, 1.5, 1.5), drop ranks (3, 1, 2): deviations (1, -.5, -.5) and
    # (1, -1, 0): rho = 1.5 / (sqrt(1.5) sqrt(2)) = sqrt(3) / 2
    context = _context([0.9, 0.5, 0.5], drops=[3.0, 1.0, 2.0])
    assert score("intervention-rank", context)[0].item() == pytest.approx(math.sqrt(3) / 2)
    assert spearmanr([0.9, 0.5, 0.5], [3.0, 1.0, 2.0]).statistic == pytest.approx(math.sqrt(3) / 2)
    # two equally hot stretches, one of which has the largest drop: half a hit
    context = _context([0.9, 0.9, 0.1], drops=[3.0, 1.0, 2.0])
    assert score("intervention-hit", context)[0].item() == pytest.approx(0.5)


def test_ties_in_the_largest_drop_all_count() -> None:
    context = _context([0.1, 0.9, 0.5], drops=[3.0, 3.0, 1.0])
    assert score("intervention-hit", context)[0].item() == 1.0
    assert chance("intervention-hit", context)[0].item() == pytest.approx(2 / 3)


def test_constant_heat_ranks_nothing_and_equal_drops_are_not_scored() -> None:
    assert score("intervention-rank", _context([0.4, 0.4, 0.4], drops=[3.0, 1.0, 2.0]))[0].item() == 0.0
    equal = _context([0.9, 0.1, 0.5], drops=[2.0, 2.0, 2.0])
    assert math.isnan(score("intervention-rank", equal)[0].item())
    assert math.isnan(score("intervention-hit", equal)[0].item())
    assert math.isnan(chance("intervention-hit", equal)[0].item())


def test_one_stretch_or_no_straighten_is_not_scored() -> None:
    single = _context([0.9, 0.1, 0.5], drops=[3.0, 1.0, 2.0], stretches=STRETCHES[:1])
    assert math.isnan(score("intervention-rank", single)[0].item())
    cannot = ScoringContext(**{**_context([0.9, 0.1, 0.5], drops=[3.0, 1.0, 2.0]).__dict__,
                               "straighten": None, "shared": type(single.shared)()})
    assert score("intervention-hit", cannot).isnan().all()


def test_one_forward_per_stretch_and_per_image_shared_by_both_metrics() -> None:
    model = WeightedBrightness(_weights([3.0, 1.0, 2.0]))
    context = _context([0.9, 0.1, 0.5], drops=[3.0, 1.0, 2.0], model=model)
    for seed, name in enumerate(("intervention-rank", "intervention-hit")):
        score(name, context, seed=seed)
        chance(name, context, seed=seed)
    assert model.forwarded == 2 + 3  # the two originals and image 0's three stretches


@pytest.mark.parametrize("batch_size", [1, 2, 64])
def test_the_batch_size_changes_nothing(batch_size: int) -> None:
    context = _context([0.9, 0.5, 0.5], drops=[3.0, 1.0, 2.0])
    value = score("intervention-rank", context, batch_size=batch_size)[0].item()
    assert value == pytest.approx(math.sqrt(3) / 2)


def test_hit_chance_favours_small_stretches_as_random_maps_do() -> None:
    """A small stretch's mean heat strays further from 1/2, so a random map makes it the
    hottest more often than 1/S; checked against a simulation of uniform maps."""
    from ropbench_plugins.metrics.interventions import random_hit_probability

    pixels = np.array([4.0, 40.0, 400.0])
    generator = np.random.default_rng(0)
    draws = 20000
    means = np.stack([generator.random((draws, int(n))).mean(1) for n in pixels], axis=1)
    simulated = np.bincount(means.argmax(1), minlength=3) / draws
    for stretch in range(3):
        winners = np.arange(3) == stretch
        assert random_hit_probability(pixels, winners) == pytest.approx(simulated[stretch], abs=0.015)
    assert random_hit_probability(pixels, np.array([True, False, False])) > 1 / 3
