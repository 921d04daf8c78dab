"""Faithfulness metrics with a model whose output is known in closed form."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from ropbench.specs import ScoringContext

from ._helpers import chance, score

# 4 x 4 white images; the model's ROP probability is the brightness of the top-left
# 2 x 2 region R (pixels 0, 1, 4, 5), mapped from [-1, 1] to [0, 1].
REGION = torch.zeros(4, 4, dtype=torch.bool)
REGION[:2, :2] = True


class RegionBrightness(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(()))  # gives the model a parameter and a device
        self.forwarded = 0

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        self.forwarded += images.shape[0]
        q = ((images[:, 0][:, REGION].mean(1) + 1) / 2 * self.scale).clamp(1e-9, 1 - 1e-9)
        return torch.stack([torch.log1p(-q), torch.log(q)], 1)


def brightness_map(model: nn.Module, images: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """A stand-in explainer: the first channel's brightness."""
    return (images[:, 0] + 1) / 2


def _context(heatmap: torch.Tensor, model: nn.Module | None = None) -> ScoringContext:
    heatmaps = heatmap[None].float()
    return ScoringContext(
        labels=torch.ones(1, dtype=torch.int64),
        probabilities=torch.tensor([[0.0, 1.0]]),
        heatmaps=heatmaps,
        masks=REGION[None],
        images=torch.ones(1, 3, 4, 4),
        targets=torch.ones(1, dtype=torch.int64),
        model=model or RegionBrightness(),
        reexplain=lambda model, images, targets, rows: brightness_map(model, images, targets),
    )


def test_deletion_and_insertion_auc_by_hand() -> None:
    region_first = REGION.float()
    region_last = 1 - REGION.float()
    # 4 steps change 0, 4, 8, 12, 16 pixels; probability along the curve:
    # region first: deletion 1,0,0,0,0 -> 0.125; insertion 0,1,1,1,1 -> 0.875
    assert score("deletion-auc", _context(region_first), steps=4).item() == pytest.approx(0.125)
    assert score("insertion-auc", _context(region_first), steps=4, baseline="black").item() == pytest.approx(0.875)
    # region last: deletion 1,1,1,1,0 -> 0.875; insertion 0,0,0,0,1 -> 0.125
    assert score("deletion-auc", _context(region_last), steps=4).item() == pytest.approx(0.875)
    assert score("insertion-auc", _context(region_last), steps=4, baseline="black").item() == pytest.approx(0.125)


def test_deletion_counts_its_forwards() -> None:
    model = RegionBrightness()
    score("deletion-auc", _context(REGION.float(), model), steps=8)
    assert model.forwarded == 8 + 1


def test_random_map_chance_of_deletion_lies_between_the_extremes() -> None:
    value = chance("deletion-auc", _context(REGION.float()), steps=4).item()
    assert 0.125 <= value <= 0.875


def test_confidence_metrics_by_hand() -> None:
    # The map marks pixels 0 and 1 (half of R): the masked image keeps them white and
    # turns everything else black, so the probability falls from 1 to 1/2.
    heatmap = torch.zeros(16)
    heatmap[[0, 1]] = 3.0
    context = _context(heatmap.reshape(4, 4))
    assert score("average-drop", context).item() == pytest.approx(0.5)
    assert score("average-increase", context).item() == 0.0
    assert score("complexity", context).item() == pytest.approx(2 / 16)
    # brightness of the masked image is the map itself: perfectly coherent
    assert score("coherency", context).item() == pytest.approx(1.0)
    assert score("adcc", context).item() == pytest.approx(3 / (1 / 1 + 1 / (1 - 2 / 16) + 1 / (1 - 0.5)))


def test_a_map_that_keeps_the_region_causes_no_drop() -> None:
    context = _context(REGION.float() * 2 - 5)  # any values: min-max scaling
    assert score("average-drop", context).item() == pytest.approx(0.0, abs=1e-6)
    assert score("complexity", context).item() == pytest.approx(4 / 16)
    assert chance("complexity", context).item() == 0.5


def test_a_constant_map_keeps_the_image_whole() -> None:
    context = _context(torch.full((4, 4), 0.3))
    assert score("average-drop", context).item() == pytest.approx(0.0, abs=1e-6)
    assert score("complexity", context).item() == 1.0
    # ADCC's 1 - complexity term is 0: the harmonic mean is 0
    assert score("adcc", context).item() == 0.0


def test_confidence_metrics_share_two_forwards_per_image_through_one_context() -> None:
    model = RegionBrightness()
    context = _context(REGION.float(), model)
    for seed, name in enumerate(("average-drop", "average-increase", "complexity", "coherency", "adcc")):
        # as the harness does: one ScoringContext per (model, explainer), a seed per metric
        score(name, context, seed=seed)
    assert model.forwarded == 2  # x and x' once, for all five metrics
    score("average-drop", _context(REGION.float(), model))  # another context: its own pass
    assert model.forwarded == 4


def test_coherency_reexplains_each_masked_image_as_its_own_row() -> None:
    seen = []

    def recording(model, images, targets, rows):
        seen.append(rows.tolist())
        return brightness_map(model, images, targets)

    heatmaps = torch.stack([REGION.float(), 1 - REGION.float()])
    context = ScoringContext(
        labels=torch.ones(2, dtype=torch.int64), probabilities=torch.tensor([[0.0, 1.0]] * 2),
        heatmaps=heatmaps, masks=REGION.expand(2, -1, -1), images=torch.ones(2, 3, 4, 4),
        targets=torch.ones(2, dtype=torch.int64), model=RegionBrightness(), reexplain=recording,
    )
    score("coherency", context)
    score("adcc", context)
    assert seen == [[0, 1]]  # one call, masked image i derives from explained image i


@pytest.mark.parametrize("baseline", ["black", "grey", "blur", "noise"])
def test_baselines_are_seeded_and_finite(baseline: str) -> None:
    generator = torch.Generator().manual_seed(0)
    heatmap = torch.rand(4, 4, generator=generator)
    first = score("deletion-auc", _context(heatmap), steps=4, baseline=baseline)
    again = score("deletion-auc", _context(heatmap.clone()), steps=4, baseline=baseline)
    assert torch.equal(first, again) and math.isfinite(first.item())


def test_complexity_runs_no_model() -> None:
    model = RegionBrightness()
    assert score("complexity", _context(REGION.float(), model)).item() == pytest.approx(4 / 16)
    assert model.forwarded == 0
