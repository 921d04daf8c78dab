"""Test-set classification metrics, through torchmetrics' binary functional API.

ROP (label 1) is the positive class; the score is the predicted ROP probability and a
prediction is positive when it reaches ``threshold`` (0.5: the argmax of a two-class
softmax). Values are 0-d tensors; NaN where undefined (e.g. sensitivity without ROP
images, AUROC with one class), where torchmetrics would return 0 with a warning.

Chance levels are those of a classifier with uniformly random scores: it predicts ROP
with probability q = 1 - threshold whatever the image, so with ROP prevalence pi its
expected accuracy is q pi + (1 - q)(1 - pi), sensitivity q, specificity 1 - q,
precision pi, balanced accuracy and AUROC 1/2, and F1 2 pi q / (pi + q) (plug-in).
"""

from __future__ import annotations

import math
from typing import Callable

import torch

from ropbench import hookimpl
from ropbench.specs import MetricSpec, ScoringContext

__all__ = ["ropbench_register_metrics", "classification_specs", "rop_scores"]


def rop_scores(context: ScoringContext) -> tuple[torch.Tensor, torch.Tensor]:
    """(predicted ROP probability float [N], labels int64 [N]) on the CPU."""
    probabilities, labels = context.require("probabilities", "labels")
    probabilities = probabilities.detach().to("cpu", torch.float32)
    if probabilities.dim() != 2 or probabilities.shape[1] != 2:
        raise ValueError(f"binary metrics need probabilities [N, 2], got {tuple(probabilities.shape)}")
    return probabilities[:, 1], labels.detach().to("cpu", torch.int64)


def _nan_unless(defined: bool, value: Callable[[], torch.Tensor]) -> torch.Tensor:
    """The value (computed only when defined, so torchmetrics never warns) or NaN."""
    if not defined:
        return torch.tensor(math.nan, dtype=torch.float64)
    return value().to(torch.float64).reshape(())


def _metric(kind: str) -> Callable[..., torch.Tensor]:
    def compute(context: ScoringContext, seed: int, threshold: float = 0.5) -> torch.Tensor:
        # Imported here: torchmetrics takes seconds to import, and every CLI command
        # (even `ropbench list`) registers this plugin.
        from torchmetrics.functional.classification import (
            binary_accuracy,
            binary_auroc,
            binary_f1_score,
            binary_precision,
            binary_recall,
            binary_specificity,
        )

        scores, labels = rop_scores(context)
        has_rop, has_healthy = bool((labels == 1).any()), bool((labels == 0).any())
        predicted_rop = bool((scores >= threshold).any())
        if kind == "accuracy":
            return _nan_unless(labels.numel() > 0, lambda: binary_accuracy(scores, labels, threshold))
        if kind == "sensitivity":
            return _nan_unless(has_rop, lambda: binary_recall(scores, labels, threshold))
        if kind == "specificity":
            return _nan_unless(has_healthy, lambda: binary_specificity(scores, labels, threshold))
        if kind == "precision":
            return _nan_unless(predicted_rop, lambda: binary_precision(scores, labels, threshold))
        if kind == "f1":
            return _nan_unless(has_rop or predicted_rop, lambda: binary_f1_score(scores, labels, threshold))
        if kind == "balanced-accuracy":
            sensitivity = _nan_unless(has_rop, lambda: binary_recall(scores, labels, threshold))
            specificity = _nan_unless(has_healthy, lambda: binary_specificity(scores, labels, threshold))
            return (sensitivity + specificity) / 2
        if kind == "auroc":
            return _nan_unless(has_rop and has_healthy, lambda: binary_auroc(scores, labels))
        raise AssertionError(kind)

    return compute


def _chance(kind: str) -> Callable[..., torch.Tensor]:
    def chance(context: ScoringContext, seed: int, threshold: float = 0.5) -> torch.Tensor:
        _, labels = rop_scores(context)
        prevalence = float((labels == 1).double().mean()) if labels.numel() else math.nan
        q = min(max(1.0 - threshold, 0.0), 1.0)
        values = {
            "accuracy": q * prevalence + (1 - q) * (1 - prevalence),
            "sensitivity": q if prevalence > 0 else math.nan,
            "specificity": 1 - q if prevalence < 1 else math.nan,
            "precision": prevalence if q > 0 else math.nan,
            "f1": 2 * prevalence * q / (prevalence + q) if prevalence + q > 0 else math.nan,
            "balanced-accuracy": 0.5 if 0 < prevalence < 1 else math.nan,
            "auroc": 0.5 if 0 < prevalence < 1 else math.nan,
        }
        return torch.tensor(values[kind], dtype=torch.float64)

    return chance


_DESCRIPTIONS = {
    "accuracy": "Share of test images classified correctly.",
    "sensitivity": "Share of ROP images classified ROP (recall).",
    "specificity": "Share of healthy images classified healthy.",
    "precision": "Share of images classified ROP that are ROP.",
    "f1": "Harmonic mean of precision and sensitivity.",
    "auroc": "Area under the ROC curve of the ROP probability (threshold-free).",
    "balanced-accuracy": "Mean of sensitivity and specificity.",
}


def classification_specs() -> list[MetricSpec]:
    """accuracy, sensitivity, specificity, precision, f1, auroc, balanced-accuracy."""
    return [
        MetricSpec(
            name=kind,
            kind="classification",
            higher_is_better=True,
            compute=_metric(kind),
            chance=_chance(kind),
            bounds=(0.0, 1.0),
            version="1",
            # AUROC is threshold-free: it has no threshold parameter.
            params={} if kind == "auroc" else {"threshold": 0.5},
            description=description,
        )
        for kind, description in _DESCRIPTIONS.items()
    ]


@hookimpl
def ropbench_register_metrics() -> list[MetricSpec]:
    return classification_specs()
