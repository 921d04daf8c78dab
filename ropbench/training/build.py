"""Building a model with seeded initial weights, independent of the caller's RNG state."""

from __future__ import annotations

from typing import Any, Mapping

from torch import nn

from ropbench.specs import ArchitectureSpec
from ropbench.training.determinism import seeded_global_rng

__all__ = ["build_seeded"]


def build_seeded(
    spec: ArchitectureSpec, num_classes: int, image_size: int, params: Mapping[str, Any], seed: int
) -> nn.Module:
    """``spec.build(num_classes, image_size, **params)`` with initial weights drawn from ``seed``.

    Without this, a model's initial weights depend on whatever the process drew before
    (earlier cells, other tests), and a cached result could not be reproduced alone.
    """
    with seeded_global_rng(seed, "init"):
        return spec.build(num_classes, image_size, **dict(params))
