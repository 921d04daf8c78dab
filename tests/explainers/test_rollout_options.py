"""Attention rollout's options against answers worked out by hand, and the study variant.

Two layers, two heads, three tokens (class token 0, patches 1 and 2); attention rows
sum to 1 as softmax rows do. Only row 0 of the product (the class token's) is read.

    layer 1  head a = [[1/2, 1/2, 0], [0, 1, 0], [0, 0, 1]]
             head b = [[1/4, 1/4, 1/2], [0, 1, 0], [1/2, 0, 1/2]]
    layer 2  head a = [[1/2, 1/2, 0], [1/2, 1/2, 0], [0, 0, 1]]
             head b = [[1/4, 1/4, 1/2], [0, 1, 0], [0, 1/2, 1/2]]

Fused heads (element-wise over a and b), then + I:

    layer 1  mean + I = [[11/8, 3/8, 1/4], [0, 2, 0], [1/4, 0, 7/4]]   row sums 2, 2, 2;      total 6
             max  + I = [[3/2, 1/2, 1/2], [0, 2, 0], [1/2, 0, 2]]      row sums 5/2, 2, 5/2;  total 7
             min  + I = [[5/4, 1/4, 0], [0, 2, 0], [0, 0, 3/2]]        row sums 3/2, 2, 3/2;  total 5
    layer 2  mean + I = [[11/8, 3/8, 1/4], [1/4, 7/4, 0], [0, 1/4, 7/4]]  row sums 2;          total 6
             max  + I = [[3/2, 1/2, 1/2], [1/2, 2, 0], [0, 1/2, 2]]       row sums 5/2;        total 15/2
             min  + I = [[5/4, 1/4, 0], [0, 3/2, 0], [0, 0, 3/2]]         row sums 3/2;        total 9/2

Rollout = M2 @ M1, so its row 0 is row0(M2) @ M1:

- row, mean: row0(M2) = [11/16, 3/16, 1/8]; M1 rows [11/16, 3/16, 1/8], [0, 1, 0], [1/8, 0, 7/8]
  -> [121/256 + 4/256, 33/256 + 48/256, 22/256 + 28/256] = [125, 81, 50] / 256
- row, max: row0(M2) = [3/5, 1/5, 1/5]; M1 rows [3/5, 1/5, 1/5], [0, 1, 0], [1/5, 0, 4/5]
  -> [9/25 + 1/25, 3/25 + 5/25, 3/25 + 4/25] = [10, 8, 7] / 25
- row, min: row0(M2) = [5/6, 1/6, 0]; M1 rows [5/6, 1/6, 0], [0, 1, 0], [0, 0, 1]
  -> [25/36, 5/36 + 6/36, 0] = [25/36, 11/36, 0]
- total, mean: every M + I is 2 x its row-normalised form, divided by 6: M_total = M_row / 3,
  so the product is the row result / 9 -> [125, 81, 50] / 2304
- total, max: row0(M2) = [3/2, 1/2, 1/2] / (15/2) = [1/5, 1/15, 1/15]; M1 = (max + I) / 7
  -> (1/7) [3/10 + 1/30, 1/10 + 2/15, 1/10 + 2/15] = [1/21, 1/30, 1/30]
- total, min: row0(M2) = [5/4, 1/4, 0] / (9/2) = [5/18, 1/18, 0]; M1 = (min + I) / 5
  -> (1/5) [25/72, 5/72 + 8/72, 0] = [5/72, 13/360, 0]

The current implementation and the study multiply in the same order (last layer
leftmost: the study's ``v = A_L; v = v @ A_(L-1) ...``); the reversed product differs,
see test_product_is_last_layer_leftmost.
"""

from __future__ import annotations

from fractions import Fraction as F

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from ropbench.registry import get_registry
from ropbench_plugins.explainers.rollout import divide_by_max, rollout

LAYER_1 = [
    [[1 / 2, 1 / 2, 0], [0, 1, 0], [0, 0, 1]],
    [[1 / 4, 1 / 4, 1 / 2], [0, 1, 0], [1 / 2, 0, 1 / 2]],
]
LAYER_2 = [
    [[1 / 2, 1 / 2, 0], [1 / 2, 1 / 2, 0], [0, 0, 1]],
    [[1 / 4, 1 / 4, 1 / 2], [0, 1, 0], [0, 1 / 2, 1 / 2]],
]
ATTENTIONS = [torch.tensor([LAYER_1], dtype=torch.float64), torch.tensor([LAYER_2], dtype=torch.float64)]

CLASS_ROW = {
    ("row", "mean"): [F(125, 256), F(81, 256), F(50, 256)],
    ("row", "max"): [F(10, 25), F(8, 25), F(7, 25)],
    ("row", "min"): [F(25, 36), F(11, 36), F(0)],
    ("total", "mean"): [F(125, 2304), F(81, 2304), F(50, 2304)],
    ("total", "max"): [F(1, 21), F(1, 30), F(1, 30)],
    ("total", "min"): [F(5, 72), F(13, 360), F(0)],
}


@pytest.mark.parametrize("normalization, head_fusion", list(CLASS_ROW))
def test_rollout_class_row_equals_the_hand_computed_product(normalization, head_fusion):
    rolled = rollout([a.float() for a in ATTENTIONS], head_fusion, 0.0, normalization)
    expected = torch.tensor([[float(v) for v in CLASS_ROW[normalization, head_fusion]]])
    torch.testing.assert_close(rolled[:, 0], expected)


def test_total_normalization_is_not_a_rescaling_of_row_normalization_under_max_fusion():
    # Hand values above: row gives patches 8/25 : 7/25, total gives 1/30 : 1/30.
    row = rollout([a.float() for a in ATTENTIONS], "max", 0.0, "row")[0, 0, 1:]
    total = rollout([a.float() for a in ATTENTIONS], "max", 0.0, "total")[0, 0, 1:]
    assert row[0] > row[1] and torch.isclose(total[0], total[1])


def test_product_is_last_layer_leftmost():
    # Reversing the layers gives M1 @ M2 (row, mean): row0(M1) = [11/16, 3/16, 1/8] times
    # M2's rows [11/16, 3/16, 1/8], [1/8, 7/8, 0], [0, 1/8, 7/8] -> patches
    # [33/256 + 42/256 + 4/256, 22/256 + 0 + 28/256] = [79, 50] / 256, where the
    # study's order (M2 @ M1) gives [81, 50] / 256.
    forward = rollout([a.float() for a in ATTENTIONS], "mean", 0.0, "row")[0, 0]
    reversed_ = rollout([a.float() for a in ATTENTIONS[::-1]], "mean", 0.0, "row")[0, 0]
    torch.testing.assert_close(forward[1:], torch.tensor([81 / 256, 50 / 256]))
    torch.testing.assert_close(reversed_[1:], torch.tensor([79 / 256, 50 / 256]))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), tokens=st.integers(2, 6), layers=st.integers(1, 4))
def test_total_equals_row_divided_by_tokens_per_layer_under_mean_fusion(seed, tokens, layers):
    # Softmax rows sum to 1, so each row of mean(A) + I sums to 2 and the total is 2T:
    # total-normalised = row-normalised / T, per layer.
    generator = torch.Generator().manual_seed(seed)
    attentions = [torch.randn(2, 3, tokens, tokens, generator=generator).softmax(-1) for _ in range(layers)]
    row = rollout(attentions, "mean", 0.0, "row")
    total = rollout(attentions, "mean", 0.0, "total")
    torch.testing.assert_close(total * tokens**layers, row, rtol=1e-5, atol=1e-6)


def test_unknown_normalization_is_rejected():
    with pytest.raises(ValueError, match="normalization must be one of"):
        rollout([a.float() for a in ATTENTIONS], "mean", 0.0, "columns")


def test_divide_by_max_scales_each_map_to_one_and_leaves_zero_maps():
    grids = torch.tensor([[[2.0, 4.0], [1.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]]])
    torch.testing.assert_close(divide_by_max(grids), torch.tensor([[[0.5, 1.0], [0.25, 0.0]], [[0.0, 0.0], [0.0, 0.0]]]))


def test_study_variant_has_exactly_the_studys_settings():
    # DESIGN.md: heads fused by max, each layer divided by the sum of all its entries,
    # each map divided by its maximum; no entries discarded.
    explainers = get_registry().explainers
    study = explainers.get("attention-rollout-study")
    assert dict(study.params) == {"head_fusion": "max", "discard_ratio": 0.0, "normalization": "total",
                                  "final_max_division": True}
    assert study.explain is explainers.get("attention-rollout").explain
    assert not study.control
    plain = explainers.get("attention-rollout").params
    assert plain["normalization"] == "row" and plain["final_max_division"] is False
