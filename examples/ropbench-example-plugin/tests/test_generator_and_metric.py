"""What the example generator and metric promise beyond the contracts, by hand."""

from __future__ import annotations

import math

import torch

from ropbench.specs import ScoringContext
from ropbench_example_plugin.hottest_pixel import hottest_pixel_chance, hottest_pixel_on_tortuous
from ropbench_example_plugin.sine_lines import generate_sine_lines


def _context(heat: torch.Tensor, tortuous: torch.Tensor) -> ScoringContext:
    return ScoringContext(labels=torch.ones(len(heat), dtype=torch.int64), probabilities=torch.full((len(heat), 2), 0.5),
                          heatmaps=heat, tortuous_vessels=tortuous)


def test_rop_images_have_tortuous_vessels_and_healthy_ones_none():
    batch = generate_sine_lines(4, 48, seed=3)
    assert batch.labels.tolist() == [0, 1, 0, 1]
    assert not batch.tortuous_vessels[0].any() and batch.tortuous_vessels[1].any()
    assert (batch.tortuous_vessels <= batch.vessels.bool()).all()  # tortuous pixels are vessel pixels


def test_hottest_pixel_by_hand():
    tortuous = torch.tensor([[[True, False], [False, False]]])
    # the single hottest pixel is tortuous: 1; two tied maxima, one tortuous: 1/2
    assert hottest_pixel_on_tortuous(_context(torch.tensor([[[9.0, 1.0], [0.0, 2.0]]]), tortuous), 0).item() == 1.0
    assert hottest_pixel_on_tortuous(_context(torch.tensor([[[5.0, 5.0], [0.0, 2.0]]]), tortuous), 0).item() == 0.5
    # chance: 1 tortuous pixel of 4
    assert hottest_pixel_chance(_context(torch.zeros(1, 2, 2), tortuous), 0).item() == 0.25
    assert math.isnan(hottest_pixel_on_tortuous(_context(torch.ones(1, 2, 2), tortuous & False), 0).item())
