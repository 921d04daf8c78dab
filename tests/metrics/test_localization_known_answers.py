"""Localization metrics on 4 x 4 maps whose every value is worked out by hand."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch

from ropbench.specs import SharedPasses

from ._helpers import chance, localization_context, score

# Map values 0..15 row-major (all distinct); mask = the pixels valued 15, 14, 3 and 0.
RAMP = torch.arange(16, dtype=torch.float32).reshape(4, 4)
RAMP_MASK = torch.zeros(16, dtype=torch.bool)
RAMP_MASK[[15, 14, 3, 0]] = True
RAMP_MASK = RAMP_MASK.reshape(4, 4)


@pytest.mark.parametrize(
    "name, expected",
    [
        # p=50: top 8 = values 8..15, hits {15, 14}
        ("percentile-precision@50", 2 / 8),
        ("percentile-recall@50", 2 / 4),
        ("percentile-f1@50", 2 * 2 / (8 + 4)),
        ("percentile-iou@50", 2 / (8 + 4 - 2)),
        # p=75 and p=80: top ceil(4) = ceil(3.2) = 4 = values 12..15, hits {15, 14}
        ("percentile-precision@75", 2 / 4),
        ("percentile-iou@75", 2 / 6),
        ("percentile-precision@80", 2 / 4),
        ("percentile-recall@80", 2 / 4),
        # p=90: top ceil(1.6) = 2 = {15, 14}; p=95: top ceil(0.8) = 1 = {15}
        ("percentile-precision@90", 1.0),
        ("percentile-recall@90", 2 / 4),
        ("percentile-precision@95", 1.0),
        ("percentile-recall@95", 1 / 4),
        ("percentile-f1@95", 2 * 1 / (1 + 4)),
        # positives at descending ranks 1, 2, 13, 16
        ("auprc", (1 / 1 + 2 / 2 + 3 / 13 + 4 / 16) / 4),
        # negatives below each positive: 15 -> 12, 14 -> 12, 3 -> 2, 0 -> 0
        ("pixel-auroc", 26 / (4 * 12)),
        # top P = 4 pixels = values 12..15
        ("relevance-rank-accuracy", 2 / 4),
        ("pointing-game", 1.0),
        ("relevance-mass", (15 + 14 + 3 + 0) / sum(range(16))),
    ],
)
def test_distinct_values(name: str, expected: float) -> None:
    assert score(name, localization_context(RAMP, RAMP_MASK)).item() == pytest.approx(expected, abs=1e-12)


# Two levels: value 1 on the first six pixels, 0 on the other ten; the mask holds
# three of the ones (pixels 0, 1, 2) and one zero (pixel 10).
TWO_LEVEL = torch.zeros(16)
TWO_LEVEL[:6] = 1
TWO_LEVEL = TWO_LEVEL.reshape(4, 4)
TWO_LEVEL_MASK = torch.zeros(16, dtype=torch.bool)
TWO_LEVEL_MASK[[0, 1, 2, 10]] = True
TWO_LEVEL_MASK = TWO_LEVEL_MASK.reshape(4, 4)


@pytest.mark.parametrize(
    "name, expected",
    [
        # k=4 of the 6 tied ones, each a hit with probability 3/6
        ("percentile-precision@75", 4 * 3 / 6 / 4),
        # k=8: the 6 ones (3 hits) plus 2 of the 10 zeros (1 hit among them)
        ("percentile-precision@50", (3 + 2 / 10) / 8),
        ("percentile-recall@50", (3 + 2 / 10) / 4),
        ("percentile-iou@50", 3.2 / (8 + 4 - 3.2)),
        # thresholds 1 (P 3/6, R 3/4) and 0 (P 4/16, R 1)
        ("auprc", 3 / 4 * 3 / 6 + 1 / 4 * 4 / 16),
        # each 1 in the mask beats 9 zeros and ties 3 ones; the masked 0 ties 9 zeros
        ("pixel-auroc", (3 * (9 + 1.5) + 4.5) / (4 * 12)),
        ("pointing-game", 3 / 6),
        ("relevance-rank-accuracy", 4 * 3 / 6 / 4),
        ("relevance-mass", 3 / 6),
    ],
)
def test_ties_split_fairly(name: str, expected: float) -> None:
    assert score(name, localization_context(TWO_LEVEL, TWO_LEVEL_MASK)).item() == pytest.approx(expected, abs=1e-12)


LOCALIZATION = [
    *(f"percentile-{s}@{p}" for s in ("precision", "recall", "f1", "iou") for p in (50, 75, 80, 90, 95)),
    "auprc",
    "pixel-auroc",
    "relevance-mass",
    "relevance-rank-accuracy",
    "pointing-game",
]


@pytest.mark.parametrize("name", LOCALIZATION)
@pytest.mark.parametrize("level", [0.0, 0.25, -3.0])
def test_a_constant_map_scores_its_chance_level(name: str, level: float) -> None:
    context = localization_context(torch.full((4, 4), level), RAMP_MASK)
    if name == "auprc":
        # sklearn's AP of a constant map is the prevalence, which is below the expected
        # AP of a random ranking (a random map has no ties).
        assert score(name, context).item() == pytest.approx(4 / 16)
    elif name.startswith("percentile-iou"):
        # IoU's chance is the plug-in value at the expected overlap, like the score.
        assert score(name, context).item() == pytest.approx(chance(name, context).item())
    else:
        assert score(name, context).item() == pytest.approx(chance(name, context).item(), abs=1e-12)


@pytest.mark.parametrize("name", LOCALIZATION)
def test_an_empty_mask_is_not_scored(name: str) -> None:
    context = localization_context(RAMP, torch.zeros(4, 4, dtype=torch.bool))
    assert math.isnan(score(name, context).item())
    assert math.isnan(chance(name, context).item())


@pytest.mark.parametrize(
    "name, expected",
    [
        ("percentile-precision@75", 1.0),
        ("percentile-recall@75", 4 / 16),
        ("percentile-iou@90", 2 / 16),
        ("auprc", 1.0),
        ("pixel-auroc", math.nan),  # no background pixel: undefined
        ("relevance-mass", 1.0),
        ("relevance-rank-accuracy", 1.0),
        ("pointing-game", 1.0),
    ],
)
def test_a_mask_covering_everything(name: str, expected: float) -> None:
    value = score(name, localization_context(RAMP, torch.ones(4, 4, dtype=torch.bool))).item()
    assert value == pytest.approx(expected, nan_ok=True)


def test_relevance_mass_ignores_negative_relevance_and_treats_no_relevance_as_uniform() -> None:
    heatmap = torch.tensor([[2.0, -5.0], [1.0, 0.0]])
    mask = torch.tensor([[True, True], [False, False]])
    assert score("relevance-mass", localization_context(heatmap, mask)).item() == pytest.approx(2 / 3)
    negative = localization_context(-heatmap.abs() - 1, mask)
    assert score("relevance-mass", negative).item() == pytest.approx(2 / 4)


def test_pointing_game_tolerance_is_a_share_of_the_image_side() -> None:
    heatmap = torch.zeros(4, 4)
    heatmap[0, 0] = 1
    mask = torch.zeros(4, 4, dtype=torch.bool)
    mask[0, 2] = True  # two pixels from the maximum
    context = localization_context(heatmap, mask)
    assert score("pointing-game", context, tolerance=0.0).item() == 0.0
    assert score("pointing-game", context, tolerance=0.25).item() == 0.0  # radius 1
    assert score("pointing-game", context, tolerance=0.5).item() == 1.0  # radius 2
    # chance: the radius-2 disc around (0, 2) clipped to the image holds 4 + 3 + 1
    # pixels (rows 0, 1, 2), over 16 pixels
    assert chance("pointing-game", context, tolerance=0.5).item() == pytest.approx(8 / 16)


def test_nonfinite_maps_are_not_scored() -> None:
    heatmap = RAMP.clone()
    heatmap[0, 1] = math.nan
    for name in ("auprc", "percentile-precision@50", "relevance-mass", "pointing-game"):
        assert math.isnan(score(name, localization_context(heatmap, RAMP_MASK)).item()), name


def test_scores_of_a_batch_match_the_images_scored_alone() -> None:
    heatmaps = torch.stack([RAMP, TWO_LEVEL, torch.full((4, 4), 0.5)])
    masks = torch.stack([RAMP_MASK, TWO_LEVEL_MASK, RAMP_MASK])
    for name in LOCALIZATION:
        together = score(name, localization_context(heatmaps, masks))
        alone = torch.cat([score(name, localization_context(heatmaps[i], masks[i])) for i in range(3)])
        torch.testing.assert_close(together, alone, msg=name)


def test_no_images_give_empty_results() -> None:
    context = localization_context(torch.zeros(0, 4, 4), torch.zeros(0, 4, 4, dtype=torch.bool))
    for name in LOCALIZATION:
        assert score(name, context).shape == (0,), name
        assert chance(name, context).shape == (0,), name


def test_other_dtypes_score_like_float32() -> None:
    for dtype in (torch.float64, torch.float16):
        context = localization_context(RAMP, RAMP_MASK)
        converted = dataclasses.replace(context, heatmaps=RAMP[None].to(dtype), shared=SharedPasses())
        for name in LOCALIZATION:
            torch.testing.assert_close(score(name, converted), score(name, context), msg=name)
