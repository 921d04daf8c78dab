"""Building a model with seeded initial weights, independent of the caller's RNG state."""

from __future__ import annotations

from typing import Any, Mapping

import torch
from torch import nn

from ropbench.specs import ArchitectureSpec
from ropbench.training.determinism import seeded_global_rng

__all__ = ["build_seeded", "initialise"]


def build_seeded(
    spec: ArchitectureSpec, num_classes: int, image_size: int, params: Mapping[str, Any], seed: int
) -> nn.Module:
    """``spec.build(num_classes, image_size, **params)`` with initial weights drawn from ``seed``.

    Without this, a model's initial weights depend on whatever the process drew before
    (earlier cells, other tests), and a cached result could not be reproduced alone.
    """
    with seeded_global_rng(seed, "init"):
        return spec.build(num_classes, image_size, **dict(params))


def initialise(model: nn.Module, scheme: str) -> nn.Module:
    """Re-draw ``model``'s weights under ``scheme`` from torch's global RNG (seed it first).

    ``torch`` keeps the builder's own initialisation; ``glorot`` is Keras' default, the
    original study's: every convolution and linear weight Glorot-uniform (fan in and fan
    out counting the kernel's area, as Keras does), every bias of those layers zero.
    Normalisation layers, embeddings and tokens keep the builder's values.
    """
    if scheme == "torch":
        return model
    if scheme != "glorot":
        raise ValueError(f"unknown initialisation {scheme!r}: use 'torch' or 'glorot'")
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)):
                nn.init.xavier_uniform_(module.weight)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
    return model
