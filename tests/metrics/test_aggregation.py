"""Bootstrap intervals, chance normalisation and seed summaries."""

from __future__ import annotations

import math

import pytest
import torch

from ropbench.aggregation import bootstrap_ci, chance_normalised


def test_bootstrap_is_seeded_and_ignores_nans() -> None:
    values = torch.linspace(0, 1, 50)
    with_nans = torch.cat([values, torch.full((7,), math.nan)])
    assert bootstrap_ci(values, seed=1) == bootstrap_ci(values, seed=1)
    assert bootstrap_ci(values, seed=1) == bootstrap_ci(with_nans, seed=1)
    assert bootstrap_ci(values, seed=1) != bootstrap_ci(values, seed=2)
    torch.manual_seed(123)  # global RNG state must not matter
    assert bootstrap_ci(values, seed=1) == bootstrap_ci(values, seed=1)


def test_bootstrap_interval_brackets_the_mean_and_matches_the_normal_approximation() -> None:
    generator = torch.Generator().manual_seed(0)
    values = torch.randn(400, generator=generator, dtype=torch.float64)
    low, high = bootstrap_ci(values, seed=0, resamples=4000)
    mean = values.mean().item()
    half_width = 1.96 * values.std().item() / math.sqrt(400)
    assert low < mean < high
    assert high - low == pytest.approx(2 * half_width, rel=0.1)
    narrower = bootstrap_ci(values, seed=0, resamples=4000, level=0.5)
    assert low < narrower[0] < narrower[1] < high


def test_bootstrap_degenerate_inputs() -> None:
    assert all(math.isnan(v) for v in bootstrap_ci(torch.tensor([math.nan]), seed=0))
    assert bootstrap_ci([0.25], seed=0) == (0.25, 0.25)
    assert bootstrap_ci([0.5] * 10, seed=0) == (0.5, 0.5)
    with pytest.raises(ValueError):
        bootstrap_ci([1.0, 2.0], seed=0, level=1.0)


def test_chance_normalised() -> None:
    assert chance_normalised(0.75, 0.5, higher_is_better=True) == pytest.approx(0.5)
    assert chance_normalised(0.5, 0.5, higher_is_better=True) == 0.0
    assert chance_normalised(1.0, 0.2, higher_is_better=True) == pytest.approx(1.0)
    assert chance_normalised(0.1, 0.2, higher_is_better=True) < 0
    # lower is better, best 0: 1 - value / chance
    assert chance_normalised(0.1, 0.4, higher_is_better=False) == pytest.approx(0.75)
    assert math.isnan(chance_normalised(0.5, None, higher_is_better=True))
    assert math.isnan(chance_normalised(0.5, 1.0, higher_is_better=True))
    assert math.isnan(chance_normalised(math.nan, 0.5, higher_is_better=True))


def test_bootstrap_of_many_images_draws_in_blocks_and_stays_seeded() -> None:
    generator = torch.Generator().manual_seed(1)
    values = torch.rand(20_000, generator=generator)  # > 4096 images: several blocks
    low, high = bootstrap_ci(values, seed=4, resamples=300)
    assert low < values.mean().item() < high
    assert high - low < 0.02
    assert (low, high) == bootstrap_ci(values, seed=4, resamples=300)
