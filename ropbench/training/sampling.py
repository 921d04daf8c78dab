"""Class-balanced epoch orders and batch boundaries."""

from __future__ import annotations

import torch

__all__ = ["balanced_epoch_order", "batch_slices"]


def balanced_epoch_order(labels: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Indices for one epoch in which every class appears as often as the largest one.

    Smaller classes are oversampled by whole shuffled passes (then a partial one), so no
    image repeats before every image of its class has been seen. A balanced dataset gets
    a plain permutation.
    """
    labels = labels.cpu()
    classes = torch.unique(labels)
    per_class = [(labels == c).nonzero().flatten() for c in classes]
    target = max(len(rows) for rows in per_class)
    chosen = []
    for rows in per_class:
        passes = -(-target // len(rows))
        drawn = torch.cat([rows[torch.randperm(len(rows), generator=generator)] for _ in range(passes)])
        chosen.append(drawn[:target])
    order = torch.cat(chosen)
    return order[torch.randperm(len(order), generator=generator)]


def batch_slices(total: int, batch_size: int) -> list[slice]:
    """Consecutive batches; a trailing batch of one joins the previous one (batch norm
    cannot normalise a single sample)."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    starts = list(range(0, total, batch_size))
    if len(starts) > 1 and total - starts[-1] == 1:
        starts.pop()
    ends = starts[1:] + [total]
    return [slice(s, e) for s, e in zip(starts, ends)]
