"""Classification metrics: hand-counted confusion matrices and scikit-learn agreement."""

from __future__ import annotations

import math

import pytest
import torch
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
)

from ropbench.specs import ScoringContext

from ._helpers import chance, score


def _context(labels, rop_probability) -> ScoringContext:
    rop = torch.tensor(rop_probability, dtype=torch.float32)
    return ScoringContext(labels=torch.tensor(labels), probabilities=torch.stack([1 - rop, rop], 1))


# 3 ROP (2 found), 5 healthy (1 false alarm): TP 2, FN 1, TN 4, FP 1
HAND = _context([1, 1, 1, 0, 0, 0, 0, 0], [0.9, 0.6, 0.2, 0.7, 0.1, 0.3, 0.4, 0.45])


@pytest.mark.parametrize(
    "name, expected",
    [
        ("accuracy", 6 / 8),
        ("sensitivity", 2 / 3),
        ("specificity", 4 / 5),
        ("precision", 2 / 3),
        ("f1", 2 * 2 / (2 * 2 + 1 + 1)),
        ("balanced-accuracy", (2 / 3 + 4 / 5) / 2),
        # pairs (ROP, healthy) ranked right: 0.9 beats 5, 0.6 beats 4, 0.2 beats 1
        ("auroc", (5 + 4 + 1) / 15),
    ],
)
def test_hand_counted(name: str, expected: float) -> None:
    value = score(name, HAND)
    assert value.dim() == 0
    assert value.item() == pytest.approx(expected, abs=1e-6)


def test_agreement_with_scikit_learn_on_random_cases() -> None:
    generator = torch.Generator().manual_seed(0)
    for _ in range(5):
        labels = (torch.rand(60, generator=generator) < 0.4).long()
        rop = (torch.rand(60, generator=generator) + labels * 0.3).clamp(0, 1)
        context = _context(labels.tolist(), rop.tolist())
        y, p = labels.numpy(), context.probabilities[:, 1].numpy()
        predicted = (p >= 0.5).astype(int)
        expected = {
            "accuracy": accuracy_score(y, predicted),
            "sensitivity": recall_score(y, predicted),
            "specificity": recall_score(1 - y, 1 - predicted),
            "precision": precision_score(y, predicted),
            "f1": f1_score(y, predicted),
            "balanced-accuracy": balanced_accuracy_score(y, predicted),
            "auroc": roc_auc_score(y, p),
        }
        for name, value in expected.items():
            assert score(name, context).item() == pytest.approx(value, abs=1e-6), name


def test_undefined_values_are_nan_not_zero() -> None:
    healthy_only = _context([0, 0, 0], [0.2, 0.1, 0.3])
    assert math.isnan(score("sensitivity", healthy_only).item())
    assert math.isnan(score("auroc", healthy_only).item())
    assert math.isnan(score("precision", healthy_only).item())  # nothing predicted ROP
    assert score("specificity", healthy_only).item() == 1.0


def test_chance_is_a_classifier_with_uniformly_random_scores() -> None:
    # prevalence 3/8 at threshold 0.5: predicts ROP half of the time
    assert chance("accuracy", HAND).item() == pytest.approx(0.5)
    assert chance("precision", HAND).item() == pytest.approx(3 / 8)
    assert chance("auroc", HAND).item() == 0.5
    assert chance("accuracy", HAND, threshold=0.8).item() == pytest.approx(0.2 * 3 / 8 + 0.8 * 5 / 8)
