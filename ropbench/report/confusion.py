"""Test-set confusion matrices of every trained model, summed over seeds.

Read from the run's cached test predictions (``predictions/<train key>.pt``), never from
model weights. Predicted ROP when the ROP probability reaches 0.5, the same rule as the
``accuracy`` metric's default threshold, so the matrix and the leaderboard agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from ropbench.registry import natural_key
from ropbench.report.gallery import CacheReader
from ropbench.report.rundata import RunData

__all__ = ["ConfusionMatrix", "build_confusion_matrices", "THRESHOLD", "CLASS_NAMES"]

THRESHOLD = 0.5
CLASS_NAMES = ("healthy", "ROP")


@dataclass
class ConfusionMatrix:
    """counts[true][predicted], true and predicted in (0 healthy, 1 ROP)."""

    generator: str
    architecture: str
    control: bool = False
    seeds: list[int] = field(default_factory=list)
    counts: list[list[int]] = field(default_factory=lambda: [[0, 0], [0, 0]])
    problems: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(map(sum, self.counts))


def _counts(labels: torch.Tensor, probabilities: torch.Tensor) -> list[list[int]]:
    predicted = (probabilities[:, 1] >= THRESHOLD).long()
    pairs = labels.long() * 2 + predicted
    flat = torch.bincount(pairs, minlength=4).tolist()
    return [flat[0:2], flat[2:4]]


def build_confusion_matrices(run: RunData, reader: CacheReader) -> list[ConfusionMatrix]:
    """One matrix per (generator, architecture) of the run's train tasks (models, then
    control classifiers), natural order; a seed whose entries are gone is named."""
    matrices: dict[tuple[str, str], ConfusionMatrix] = {}
    for cell in run.train_cells:
        matrix = matrices.setdefault((cell.generator, cell.architecture),
                                     ConfusionMatrix(cell.generator, cell.architecture, cell.control))
        try:
            probabilities = reader.probabilities(cell.train_key)
            labels = reader.test_split(cell.data_key)["labels"]
        except LookupError as error:
            matrix.problems.append(f"seed {cell.seed}: {error}")
            continue
        counts = _counts(labels, probabilities.float())
        matrix.counts = [[a + b for a, b in zip(old, new)] for old, new in zip(matrix.counts, counts)]
        matrix.seeds.append(cell.seed)
    return [matrices[k] for k in sorted(matrices, key=lambda k: (natural_key(k[0]), matrices[k].control,
                                                                 natural_key(k[1])))]
