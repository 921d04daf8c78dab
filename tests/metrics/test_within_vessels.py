"""vessel-auroc and vessel-auprc: heat ranked among vessel pixels only."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import average_precision_score, roc_auc_score

from ropbench.vessels import VESSEL_THRESHOLD
from ropbench_plugins.metrics.grouped_ranking import rank_within_groups

from ._helpers import chance, localization_context, score

# One 3 x 4 image. Vessel pixels S (plane 1.0, or 0.6 >= the 0.25 threshold) carry the
# heats below; T (tortuous) = {3, 1, 2}, H (healthy) = {2, 0, 0}. Off S the map is 100:
# it must not matter. The 0.1 pixel is a faint fringe, not a vessel.
HEAT = torch.tensor([[3.0, 1.0, 2.0, 100.0], [2.0, 0.0, 0.0, 100.0], [100.0, 100.0, 100.0, 100.0]])
VESSELS = torch.tensor([[1.0, 1.0, 0.6, 0.0], [1.0, 1.0, 1.0, 0.1], [0.0, 0.0, 0.0, 0.0]])
TORTUOUS = torch.tensor([[True, True, True, False], [False, False, False, True], [False] * 4])
MASK = torch.ones(3, 4, dtype=torch.bool)


def _context(heat=HEAT, vessels=VESSELS, tortuous=TORTUOUS):
    return localization_context(heat, MASK, vessels=vessels, tortuous_vessels=tortuous)


def test_vessel_auroc_by_hand() -> None:
    # T=3 beats 2, 0, 0 (3); T=1 beats 0, 0 (2); T=2 ties H=2 and beats 0, 0 (2.5): 7.5 / 9
    assert score("vessel-auroc", _context()).item() == pytest.approx(7.5 / 9, abs=1e-12)
    assert chance("vessel-auroc", _context()).item() == 0.5


def test_vessel_auprc_by_hand() -> None:
    # thresholds 3: P 1/1, recall 1/3; 2: {3, 2, 2} P 2/3, recall 2/3; 1: P 3/4, recall 1
    assert score("vessel-auprc", _context()).item() == pytest.approx(1 / 3 + 2 / 9 + 1 / 4, abs=1e-12)
    # a random ranking of n = 6 with P = 3: (P-1)/(n-1) + H_6 (n-P)/(n(n-1))
    harmonic = sum(1 / k for k in range(1, 7))
    assert chance("vessel-auprc", _context()).item() == pytest.approx(2 / 5 + harmonic * 3 / 30, abs=1e-12)


def test_the_vessel_map_scores_exactly_chance_auroc_and_the_prevalence_auprc() -> None:
    vessel_map = (VESSELS >= VESSEL_THRESHOLD).float()
    assert score("vessel-auroc", _context(heat=vessel_map)).item() == 0.5
    assert score("vessel-auprc", _context(heat=vessel_map)).item() == pytest.approx(3 / 6)


@pytest.mark.parametrize("name", ["vessel-auroc", "vessel-auprc"])
def test_not_scored_without_tortuous_or_healthy_vessels_or_with_a_nan_map(name: str) -> None:
    no_tortuous = torch.zeros_like(TORTUOUS)
    all_tortuous = VESSELS >= VESSEL_THRESHOLD  # every vessel pixel tortuous: nothing healthy to rank below
    no_vessels = torch.zeros_like(VESSELS)
    nan_map = HEAT.clone()
    nan_map[2, 0] = math.nan  # off the vessels, still not a finite map
    for context in (_context(tortuous=no_tortuous), _context(tortuous=all_tortuous),
                    _context(vessels=no_vessels), _context(heat=nan_map)):
        assert math.isnan(score(name, context).item())
    for context in (_context(tortuous=no_tortuous), _context(tortuous=all_tortuous), _context(vessels=no_vessels)):
        assert math.isnan(chance(name, context).item())


_levels = st.integers(-3, 3)


@settings(max_examples=40, deadline=None)
@given(
    heat=st.lists(_levels, min_size=30, max_size=30),
    vessel=st.lists(st.booleans(), min_size=30, max_size=30),
    tortuous=st.lists(st.booleans(), min_size=30, max_size=30),
    transform=st.sampled_from(["affine", "cube", "exp"]),
)
def test_agrees_with_scikit_learn_on_the_vessel_pixels_and_ignores_monotone_transforms(
    heat, vessel, tortuous, transform
) -> None:
    heat = torch.tensor(heat, dtype=torch.float32).reshape(5, 6)
    vessels = torch.tensor(vessel, dtype=torch.float32).reshape(5, 6)
    tortuous = torch.tensor(tortuous).reshape(5, 6)
    context = _context_of(heat, vessels, tortuous)
    on_vessels = vessels.flatten() >= VESSEL_THRESHOLD
    truth = (tortuous.flatten() & on_vessels)[on_vessels].numpy()
    values = heat.flatten()[on_vessels].numpy()
    auroc, auprc = score("vessel-auroc", context).item(), score("vessel-auprc", context).item()
    if truth.all() or not truth.any():
        assert math.isnan(auroc) and math.isnan(auprc)
        return
    assert auroc == pytest.approx(roc_auc_score(truth, values), abs=1e-12)
    assert auprc == pytest.approx(average_precision_score(truth, values), abs=1e-12)
    transformed = {"affine": 3 * heat + 7, "cube": heat**3, "exp": torch.exp(heat / 2)}[transform]
    again = _context_of(transformed, vessels, tortuous)
    assert score("vessel-auroc", again).item() == pytest.approx(auroc, abs=1e-12)
    assert score("vessel-auprc", again).item() == pytest.approx(auprc, abs=1e-12)
    vessel_map = _context_of((vessels >= VESSEL_THRESHOLD).float(), vessels, tortuous)
    assert score("vessel-auroc", vessel_map).item() == 0.5


def _context_of(heat, vessels, tortuous):
    return localization_context(heat, torch.ones_like(tortuous), vessels=vessels, tortuous_vessels=tortuous)


@settings(max_examples=25, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 12), min_size=1, max_size=6),
    data=st.data(),
    dtype=st.sampled_from([np.float32, np.float64]),
)
def test_grouped_ranking_matches_scikit_learn_per_group(sizes, data, dtype) -> None:
    total = sum(sizes)
    values = np.array(data.draw(st.lists(st.integers(0, 4), min_size=total, max_size=total)), dtype=dtype)
    positives = np.array(data.draw(st.lists(st.booleans(), min_size=total, max_size=total)))
    groups = np.repeat(np.arange(len(sizes)), sizes)
    order = np.array(data.draw(st.permutations(range(total))))  # groups need not be sorted
    ranking = rank_within_groups(values[order], groups[order], positives[order], len(sizes))
    for group in range(len(sizes)):
        member = groups == group
        truth, scores = positives[member], values[member]
        if truth.any() and not truth.all():
            assert ranking.roc_auc[group] == pytest.approx(roc_auc_score(truth, scores), abs=1e-12)
        else:
            assert math.isnan(ranking.roc_auc[group])
        if truth.any():
            assert ranking.average_precision[group] == pytest.approx(average_precision_score(truth, scores), abs=1e-12)
        assert (ranking.positives[group], ranking.negatives[group]) == (truth.sum(), (~truth).sum())


def test_a_batch_scores_like_its_images_alone() -> None:
    heats = torch.stack([HEAT, -HEAT, torch.zeros(3, 4)])
    vessels = VESSELS.expand(3, -1, -1)
    tortuous = TORTUOUS.expand(3, -1, -1)
    together = localization_context(heats, MASK.expand(3, -1, -1), vessels=vessels, tortuous_vessels=tortuous)
    for name in ("vessel-auroc", "vessel-auprc"):
        alone = torch.cat([score(name, _context(heat=heats[i])) for i in range(3)])
        torch.testing.assert_close(score(name, together), alone)
