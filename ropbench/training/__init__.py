"""The training protocol shared by every architecture (see ``config`` and ``loop``).

Public API (what the train stage calls)::

    train_model(model, train, val, config, seed, *, progress=None) -> TrainingResult
    predict_probabilities(model, images_uint8, *, batch_size, device) -> float32 [N, C]
    resolve_device(config_or_name) -> torch.device
    build_seeded(spec, num_classes, image_size, params, seed) -> nn.Module

Names are imported on first use, so that reading a suite (which needs only
:class:`TrainingConfig`) does not import torch.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "TrainingConfig",
    "TrainingResult",
    "train_model",
    "evaluate_loss",
    "predict_probabilities",
    "resolve_device",
    "build_seeded",
]

_HOMES = {
    "TrainingConfig": "ropbench.training.config",
    "TrainingResult": "ropbench.training.loop",
    "train_model": "ropbench.training.loop",
    "evaluate_loss": "ropbench.training.loop",
    "predict_probabilities": "ropbench.training.predict",
    "resolve_device": "ropbench.training.predict",
    "build_seeded": "ropbench.training.build",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'ropbench.training' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOMES[name]), name)
    globals()[name] = value
    return value
