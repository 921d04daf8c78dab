"""Localization metrics against scikit-learn, brute force and invariances."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import average_precision_score, roc_auc_score

from ropbench_plugins.metrics.chance_levels import expected_average_precision
from ropbench_plugins.metrics.pointing import dilate
from ._helpers import chance, localization_context, score

RANK_BASED = [
    *(f"percentile-{s}@{p}" for s in ("precision", "recall", "f1", "iou") for p in (50, 75, 80, 90, 95)),
    "auprc",
    "pixel-auroc",
    "relevance-rank-accuracy",
    "pointing-game",
]


def _random_case(seed: int, levels: int | None):
    generator = torch.Generator().manual_seed(seed)
    heatmaps = torch.rand(8, 12, 10, generator=generator)
    if levels is not None:  # few distinct values: many ties
        heatmaps = torch.floor(heatmaps * levels) - levels / 2
    masks = torch.rand(8, 12, 10, generator=generator) < torch.rand(8, 1, 1, generator=generator)
    masks[:, 0, 0] = True  # never empty
    masks[:, -1, -1] = False  # never full
    return heatmaps, masks


@pytest.mark.parametrize("seed, levels", [(0, None), (1, None), (2, 3), (3, 7), (4, 40)])
def test_average_precision_and_roc_auc_agree_with_scikit_learn(seed: int, levels: int | None) -> None:
    heatmaps, masks = _random_case(seed, levels)
    context = localization_context(heatmaps, masks)
    ours_ap, ours_auc = score("auprc", context), score("pixel-auroc", context)
    for i in range(heatmaps.shape[0]):
        truth, scores = masks[i].flatten().numpy(), heatmaps[i].flatten().numpy()
        assert ours_ap[i].item() == pytest.approx(average_precision_score(truth, scores), abs=1e-12)
        assert ours_auc[i].item() == pytest.approx(roc_auc_score(truth, scores), abs=1e-12)


@pytest.mark.parametrize("seed, levels", [(5, None), (6, 4)])
def test_percentile_scores_agree_with_brute_force_tie_averaging(seed: int, levels: int | None) -> None:
    """Expected overlap over every tie break = mean over all orders of tied pixels."""
    heatmaps, masks = _random_case(seed, levels)
    context = localization_context(heatmaps, masks)
    generator = torch.Generator().manual_seed(seed)
    pixels = heatmaps[0].numel()
    for percentile in (50, 90):
        top = math.ceil((100 - percentile) / 100 * pixels)
        values = score(f"percentile-precision@{percentile}", context)
        for i in range(heatmaps.shape[0]):
            flat, truth = heatmaps[i].flatten(), masks[i].flatten().double()
            # many random tie breaks: secondary random key; the mean converges to the
            # expectation, exact when there are no ties
            draws = torch.rand(1500, pixels, generator=generator)
            order = torch.from_numpy(np.lexsort((draws.numpy(), -flat.expand(1500, -1).numpy()), axis=1))
            monte_carlo = truth[order[:, :top]].sum(1).mean().item() / top
            tolerance = 0.03 if levels else 1e-12
            assert values[i].item() == pytest.approx(monte_carlo, abs=tolerance)


@settings(max_examples=25, deadline=None)
@given(
    values=st.lists(st.integers(-20, 20), min_size=16, max_size=16),
    mask_bits=st.lists(st.booleans(), min_size=16, max_size=16).filter(any),
    transform=st.sampled_from(["affine", "cube", "exp"]),
)
def test_rank_based_metrics_are_invariant_under_strictly_increasing_transforms(values, mask_bits, transform) -> None:
    heatmap = torch.tensor(values, dtype=torch.float32).reshape(4, 4)
    mask = torch.tensor(mask_bits).reshape(4, 4)
    transformed = {"affine": 3 * heatmap + 7, "cube": heatmap**3, "exp": torch.exp(heatmap / 4)}[transform]
    for name in RANK_BASED:
        before = score(name, localization_context(heatmap, mask))
        after = score(name, localization_context(transformed, mask))
        torch.testing.assert_close(before, after, equal_nan=True, msg=name)


@settings(max_examples=30, deadline=None)
@given(mask_bits=st.lists(st.booleans(), min_size=20, max_size=20).filter(any), scale=st.floats(0.1, 10))
def test_the_mask_itself_is_a_perfect_map(mask_bits, scale) -> None:
    mask = torch.tensor(mask_bits).reshape(4, 5)
    context = localization_context(mask.float() * scale, mask)
    assert score("relevance-mass", context).item() == pytest.approx(1.0)
    assert score("auprc", context).item() == pytest.approx(1.0)
    assert score("relevance-rank-accuracy", context).item() == pytest.approx(1.0)
    assert score("pointing-game", context).item() == 1.0


@pytest.mark.parametrize("pixels, positives", [(1, 1), (5, 1), (6, 2), (6, 6), (10, 3), (12, 7)])
def test_expected_average_precision_is_exact_over_all_rankings(pixels: int, positives: int) -> None:
    # every set of ranks the positives can take is equally likely under a random map
    total = 0.0
    sets = list(itertools.combinations(range(1, pixels + 1), positives))
    for ranks in sets:
        total += np.mean([(found + 1) / rank for found, rank in enumerate(ranks)])
    mean = total / len(sets)
    closed_form = expected_average_precision(torch.tensor([positives]), pixels).item()
    assert closed_form == pytest.approx(mean, abs=1e-12)


def test_chance_levels_match_the_mean_score_of_random_maps() -> None:
    generator = torch.Generator().manual_seed(11)
    mask = torch.zeros(6, 6, dtype=torch.bool)
    mask[1:3, 2:5] = True
    maps = torch.rand(3000, 6, 6, generator=generator)
    context = localization_context(maps, mask.expand(3000, -1, -1))
    for name in RANK_BASED + ["relevance-mass"]:
        mean_score = score(name, context).mean().item()
        expected = chance(name, context).mean().item()
        assert mean_score == pytest.approx(expected, abs=0.02), name


@pytest.mark.parametrize("radius", [1, 2, 3])
def test_dilation_matches_the_euclidean_distance_definition(radius: int) -> None:
    generator = torch.Generator().manual_seed(radius)
    masks = torch.rand(3, 9, 11, generator=generator) < 0.05
    rows, cols = torch.meshgrid(torch.arange(9), torch.arange(11), indexing="ij")
    points = torch.stack([rows.flatten(), cols.flatten()], 1).float()
    distances = torch.cdist(points, points)  # [99, 99]
    for i in range(3):
        inside = masks[i].flatten()
        near = (distances[:, inside] <= radius).any(1) if inside.any() else torch.zeros(99, dtype=torch.bool)
        assert torch.equal(dilate(masks, radius)[i].flatten(), near)
