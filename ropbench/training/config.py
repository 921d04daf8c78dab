"""Training settings: one fair protocol for every architecture, set per suite.

Every field is part of the train stage's cache key and is recorded in the manifest.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Mapping

__all__ = ["TrainingConfig"]


@dataclass(frozen=True)
class TrainingConfig:
    """:param epochs: maximum epochs.
    :param batch_size: images per optimisation step.
    :param learning_rate: Adam learning rate (the original study: 1e-3).
    :param weight_decay: Adam weight decay.
    :param plateau_patience: epochs without validation improvement before the learning
        rate is multiplied by ``plateau_factor`` (reduce-on-plateau).
    :param plateau_factor: learning-rate factor on plateau.
    :param early_stopping_patience: epochs without validation-loss improvement before
        training stops; the best checkpoint is restored. 0 disables early stopping.
    :param augment: flips and 90-degree rotations (masks stay aligned).
    :param guidance_weight: lambda of the regional guidance loss (Son et al.); 0 = off.
    :param device: ``auto`` (CUDA when present), ``cpu`` or ``cuda``.
    :param channels_last: use channels-last memory format for CNNs.
    """

    epochs: int = 10
    batch_size: int = 32
    learning_rate: float = 1e-3
    weight_decay: float = 0.0
    plateau_patience: int = 2
    plateau_factor: float = 0.5
    early_stopping_patience: int = 5
    augment: bool = True
    guidance_weight: float = 0.0
    device: str = "auto"
    channels_last: bool = False

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> "TrainingConfig":
        return cls(**dict(values))

    def identity(self) -> dict[str, Any]:
        """What determines the trained weights (device excluded: results are per machine)."""
        values = asdict(self)
        values.pop("device")
        return values
