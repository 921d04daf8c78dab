"""The run's meaning checks: the random control against its metric's declared chance."""

from __future__ import annotations

from ropbench.run_checks import _within_sampling_noise


def test_a_bootstrap_ci_that_misses_chance_is_flagged() -> None:
    assert _within_sampling_noise(0.50, 0.50, 0.45, 0.55, 50)
    assert not _within_sampling_noise(0.80, 0.50, 0.75, 0.85, 50)


def test_a_degenerate_ci_of_a_rare_hit_metric_falls_back_to_binomial_noise() -> None:
    # 0 hits in 50 images at chance 0.046 happens about one time in ten: not a wrong formula
    assert _within_sampling_noise(0.0, 0.046, 0.0, 0.0, 50)
    # 0 hits in 400 images at chance 0.3 is not noise
    assert not _within_sampling_noise(0.0, 0.3, 0.0, 0.0, 400)
    # a degenerate CI without an image count keeps the plain rule
    assert not _within_sampling_noise(0.0, 0.046, 0.0, 0.0, float("nan"))
