"""Building, saving and restoring the model of a train stage."""

from __future__ import annotations

from typing import Any, Mapping

import torch
from torch import nn

from ropbench.registry import Registry

__all__ = ["build_model", "resolve_device"]


def build_model(registry: Registry, model_payload: Mapping[str, Any]) -> nn.Module:
    """A fresh model exactly as the train stage described by ``model_payload`` builds it."""
    entry = model_payload["architecture"]
    spec = registry.architectures.get(entry["name"])
    return spec.build(int(model_payload["num_classes"]), int(model_payload["image_size"]), **entry["params"])


def resolve_device(requested: str) -> torch.device:
    """``auto`` means CUDA when present; an explicit ``cuda`` without CUDA is an error."""
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if requested.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(f"training.device = {requested!r} but CUDA is not available on this machine")
    return torch.device(requested)
