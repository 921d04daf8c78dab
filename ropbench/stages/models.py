"""Building, saving and restoring the model of a train stage."""

from __future__ import annotations

from typing import Any, Mapping

from torch import nn

from ropbench.registry import Registry
from ropbench.seeding import derive_seed
from ropbench.training.build import build_seeded

__all__ = ["build_model"]


def build_model(registry: Registry, model_payload: Mapping[str, Any], purpose: str = "train") -> nn.Module:
    """A fresh model exactly as the train stage described by ``model_payload`` builds it.

    Initial weights come from the payload's seed, not from whatever this process drew
    before, so a cell trains to the same model in any process or on any Ray worker.
    ``purpose`` separates streams (the sanity checks' fresh copy draws other weights).
    """
    entry = model_payload["architecture"]
    spec = registry.architectures.get(entry["name"])
    return build_seeded(spec, int(model_payload["num_classes"]), int(model_payload["image_size"]),
                        entry["params"], derive_seed(int(model_payload["seed"]), purpose))
