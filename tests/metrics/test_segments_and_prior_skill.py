"""segment-auroc (tortuous vs healthy vessel segments) and prior-skill (relevance mass
beyond the vessel prior), on hand-built planes."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from ropbench.vessels import VESSEL_THRESHOLD

from ._helpers import chance, localization_context, score

# Segments of one 3 x 6 image, by hand (0: not on a segment):
#   segment 1: 4 pixels, 3 tortuous (> half: tortuous), heats 3 3 3 3     -> mean 3
#   segment 2: 2 pixels, healthy, heats 1 1                              -> mean 1
#   segment 3: 4 pixels, 2 tortuous (exactly half: healthy), heats 1 3 2 2 -> mean 2
#   segment 4: 2 pixels, healthy, heats 3 3                              -> mean 3 (ties segment 1)
# One more pixel of segment 1 is off the vessels (plane 0.2) with heat 100: ignored.
SEGMENTS = torch.tensor([[1, 1, 1, 1, 1, 0], [2, 2, 3, 3, 3, 3], [4, 4, 0, 0, 0, 0]], dtype=torch.int32)
HEAT = torch.tensor([[3.0, 3, 3, 3, 100, 0], [1, 1, 1, 3, 2, 2], [3, 3, 0, 0, 0, 0]])
VESSELS = torch.tensor([[1.0, 1, 1, 1, 0.2, 0], [1, 1, 1, 1, 1, 1], [1, 1, 0, 0, 0, 0]])
TORTUOUS = torch.tensor([[1, 1, 1, 0, 1, 0], [0, 0, 1, 1, 0, 0], [0, 0, 0, 0, 0, 0]], dtype=torch.bool)


def _segment_context(heat=HEAT, segments=SEGMENTS, vessels=VESSELS, tortuous=TORTUOUS):
    return localization_context(
        heat, torch.ones(heat.shape, dtype=torch.bool), vessels=vessels, tortuous_vessels=tortuous,
        vessel_segments=segments,
    )


def test_segment_auroc_by_hand() -> None:
    # one tortuous segment (mean 3) against healthy means 1, 2, 3: 1 + 1 + 1/2 over 3
    assert score("segment-auroc", _segment_context()).item() == pytest.approx(2.5 / 3, abs=1e-12)
    assert chance("segment-auroc", _segment_context()).item() == 0.5


def test_the_vessel_map_ties_every_segment() -> None:
    vessel_map = (VESSELS >= VESSEL_THRESHOLD).float()
    assert score("segment-auroc", _segment_context(heat=vessel_map)).item() == 0.5


def test_segment_auroc_is_not_scored_without_both_kinds_or_with_a_nan_map() -> None:
    nan_map = HEAT.clone()
    nan_map[2, 5] = math.nan
    cases = [
        _segment_context(tortuous=torch.zeros_like(TORTUOUS)),  # no tortuous segment
        _segment_context(tortuous=torch.ones_like(TORTUOUS)),  # every segment tortuous
        _segment_context(vessels=torch.zeros_like(VESSELS)),  # no vessel pixel at all
        _segment_context(heat=nan_map),
    ]
    for context in cases:
        assert math.isnan(score("segment-auroc", context).item())


@settings(max_examples=30, deadline=None)
@given(
    ids=st.lists(st.integers(0, 5), min_size=24, max_size=24),
    heat=st.lists(st.integers(-2, 2), min_size=24, max_size=24),
    tortuous=st.lists(st.booleans(), min_size=24, max_size=24),
    scale=st.floats(0.5, 4.0),
)
def test_segment_auroc_matches_a_plain_loop_and_affine_transforms(ids, heat, tortuous, scale) -> None:
    segments = torch.tensor(ids, dtype=torch.int32).reshape(4, 6)
    heat = torch.tensor(heat, dtype=torch.float32).reshape(4, 6)
    tortuous = torch.tensor(tortuous).reshape(4, 6)
    vessels = torch.ones(4, 6)
    # an independent transcription: mean heat and majority rule per segment
    means, labels = [], []
    for segment in range(1, 6):
        member = segments == segment
        if member.any():
            means.append(heat[member].double().mean().item())
            labels.append(bool(tortuous[member].sum() * 2 > member.sum()))
    value = score("segment-auroc", _segment_context(heat, segments, vessels, tortuous)).item()
    if all(labels) or not any(labels):
        assert math.isnan(value)
        return
    assert value == pytest.approx(roc_auc_score(labels, means), abs=1e-12)
    # 4 and 8 are exact in float: scaled means order exactly as the originals
    transformed = _segment_context(heat * 4 + 8, segments, vessels, tortuous)
    assert score("segment-auroc", transformed).item() == pytest.approx(value, abs=1e-12)


# prior-skill on one 4 x 4 image: R = the top-left 2 x 2 block; S = row 0 (two of its
# pixels in R) and column 3 of rows 1-3 (outside R): |S| = 7, |S and R| = 2, c_P = 2/7.
R = torch.zeros(4, 4, dtype=torch.bool)
R[:2, :2] = True
S = torch.zeros(4, 4)
S[0, :] = 1.0
S[1:, 3] = 1.0


def _skill_context(heat, mask=R, vessels=S):
    return localization_context(heat, mask, vessels=vessels, tortuous_vessels=torch.zeros(4, 4, dtype=torch.bool))


def test_prior_skill_by_hand() -> None:
    c_p = 2 / 7
    # all relevance in R: mass 1, skill 1
    assert score("prior-skill", _skill_context(R.float() * 5)).item() == pytest.approx(1.0)
    # a uniform map: mass 4/16, skill (1/4 - 2/7) / (5/7) = -1/20
    assert score("prior-skill", _skill_context(torch.ones(4, 4))).item() == pytest.approx(-1 / 20)
    # the vessel map: mass 2/7 = c_P, skill 0 exactly
    assert score("prior-skill", _skill_context(S)).item() == pytest.approx(0.0, abs=1e-15)
    # negative relevance counts as none (as relevance-mass): only the +3 in R and +1 out
    heat = torch.full((4, 4), -5.0)
    heat[0, 0], heat[3, 3] = 3.0, 1.0
    assert score("prior-skill", _skill_context(heat)).item() == pytest.approx((3 / 4 - c_p) / (1 - c_p))
    # chance: a random map's mass is |R| / n = 1/4 in expectation
    assert chance("prior-skill", _skill_context(torch.rand(4, 4))).item() == pytest.approx(-1 / 20)


def test_prior_skill_is_not_scored_when_the_prior_is_perfect_or_missing() -> None:
    inside = torch.zeros(4, 4)
    inside[0, 0] = 1.0  # the only vessel pixel is in R: c_P = 1
    nan_map = torch.ones(4, 4)
    nan_map[2, 2] = math.nan
    for context in (_skill_context(torch.ones(4, 4), vessels=inside),
                    _skill_context(torch.ones(4, 4), vessels=torch.zeros(4, 4)),
                    _skill_context(torch.ones(4, 4), mask=torch.zeros(4, 4, dtype=torch.bool)),
                    _skill_context(nan_map)):
        assert math.isnan(score("prior-skill", context).item())


@settings(max_examples=30, deadline=None)
@given(
    mask=st.lists(st.booleans(), min_size=16, max_size=16).filter(any),
    vessel=st.lists(st.booleans(), min_size=16, max_size=16).filter(any),
)
def test_the_vessel_prior_always_scores_zero_and_the_target_one(mask, vessel) -> None:
    mask = torch.tensor(mask).reshape(4, 4)
    vessels = torch.tensor(vessel, dtype=torch.float32).reshape(4, 4)
    prior = score("prior-skill", _skill_context(vessels, mask=mask, vessels=vessels)).item()
    target = score("prior-skill", _skill_context(mask.float(), mask=mask, vessels=vessels)).item()
    if bool((vessels.bool() <= mask).all()):  # every vessel pixel in R: c_P = 1
        assert math.isnan(prior) and math.isnan(target)
    else:
        assert prior == pytest.approx(0.0, abs=1e-12)
        assert target == pytest.approx(1.0)


def test_prior_skill_chance_is_the_mean_skill_of_random_maps() -> None:
    generator = torch.Generator().manual_seed(3)
    maps = torch.rand(4000, 4, 4, generator=generator)
    context = localization_context(
        maps, R.expand(4000, -1, -1), vessels=S.expand(4000, -1, -1),
        tortuous_vessels=torch.zeros(4000, 4, 4, dtype=torch.bool),
    )
    # exact: mass is linear in expectation (-1/20); 4000 draws, sd ~0.2 -> se ~0.004
    assert score("prior-skill", context).mean().item() == pytest.approx(-1 / 20, abs=0.015)
    assert chance("prior-skill", context).unique().tolist() == pytest.approx([-1 / 20])
