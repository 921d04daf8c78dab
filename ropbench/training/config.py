"""Training settings: one fair protocol for every architecture, set per suite.

Every field but ``device`` is part of the train stage's cache key and is recorded in the
manifest. Values are validated (types and ranges) when a suite loads, through
:func:`validate_training`, for the suite's ``[training]`` table and for every
architecture entry's ``training`` override alike.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields
from typing import Annotated, Any, Literal, Mapping

from pydantic import AfterValidator, ConfigDict, Field, Strict, TypeAdapter, ValidationError
from pydantic.dataclasses import dataclass as validated_dataclass

__all__ = ["TrainingConfig", "validate_training", "TrainingConfigError", "PRECISIONS", "MONITORS", "INITIALISATIONS",
           "VALIDATION_SPLITS"]

PRECISIONS = ("float32", "bfloat16", "auto")
MONITORS = ("val_loss", "val_accuracy")
INITIALISATIONS = ("torch", "glorot")
VALIDATION_SPLITS = ("val", "test")

_DEVICE = re.compile(r"^(auto|cpu|cuda(:\d+)?|mps)$")


def _device(value: str) -> str:
    if not _DEVICE.match(value):
        raise ValueError("must be 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'")
    return value


@dataclass(frozen=True)
class TrainingConfig:
    """:param epochs: maximum epochs (at least 1).
    :param batch_size: images per optimisation step.
    :param learning_rate: Adam learning rate (the original study: 1e-3).
    :param weight_decay: Adam weight decay.
    :param plateau_patience: epochs without improvement of the ``monitor`` that are
        tolerated: the next one multiplies the learning rate by ``plateau_factor``
        (PyTorch's ReduceLROnPlateau; Keras' reduces one epoch earlier, on the
        ``patience``-th).
    :param plateau_factor: learning-rate factor on plateau, in (0, 1].
    :param early_stopping_patience: epochs without improvement of the ``monitor`` before
        training stops; the best checkpoint is restored. 0 disables early stopping.
    :param augment: flips and 90-degree rotations (masks stay aligned).
    :param guidance_weight: lambda of the regional guidance loss (Son et al.); 0 = off.
    :param device: ``auto`` (CUDA when present), ``cpu``, ``cuda`` or ``cuda:N``.
    :param channels_last: use channels-last memory format for CNNs.
    :param precision: ``float32``, ``bfloat16`` (autocast of the training step's forward
        pass; see :mod:`ropbench.training.precision`) or ``auto`` (a per-architecture choice,
        recorded in the train stage's info as ``precision``).
    :param monitor: what reduce-on-plateau, early stopping and the kept epoch follow:
        ``val_loss`` (lowest) or ``val_accuracy`` (highest; Keras' rule: an epoch must beat
        the best by more than 1e-4 to reset the plateau count, and only a strictly better
        epoch replaces the kept one).
    :param min_learning_rate: reduce-on-plateau never goes below this (Keras' ``min_lr``).
    :param adam_epsilon: Adam's epsilon (PyTorch's default 1e-8; Keras' 1e-7).
    :param init: ``torch`` (the architecture's own initialisation: PyTorch's layer defaults,
        or timm's) or ``glorot`` (Keras' default: every convolution and linear weight
        Glorot-uniform, their biases zero), drawn from the training seed.
    :param validate_on: ``val`` (the val split picks the schedule's steps and the kept
        epoch) or ``test``, the study's protocol: its test split doubled as validation, so
        the val split joins training and the reported test accuracy was selected on the
        test set. Rows trained so are "study-style", never a headline.
    """

    epochs: int = 10
    batch_size: int = 32
    learning_rate: float = 1e-3
    weight_decay: float = 0.0
    plateau_patience: int = 2
    plateau_factor: float = 0.5
    early_stopping_patience: int = 5
    augment: Annotated[bool, Strict()] = True
    guidance_weight: float = 0.0
    device: str = "auto"
    channels_last: bool = False
    precision: str = "float32"
    monitor: str = "val_loss"
    min_learning_rate: float = 0.0
    adam_epsilon: float = 1e-8
    init: str = "torch"
    validate_on: str = "val"

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


# The checked twin of TrainingConfig: the same fields with their types and ranges, strict
# (no "10" for 10; an int is accepted where a float is expected).
@validated_dataclass(frozen=True, config=ConfigDict(extra="forbid"))
class _CheckedTraining:
    epochs: Annotated[int, Strict(), Field(ge=1)] = 10
    batch_size: Annotated[int, Strict(), Field(ge=1)] = 32
    learning_rate: Annotated[float, Strict(), Field(gt=0, allow_inf_nan=False)] = 1e-3
    weight_decay: Annotated[float, Strict(), Field(ge=0, allow_inf_nan=False)] = 0.0
    plateau_patience: Annotated[int, Strict(), Field(ge=0)] = 2
    plateau_factor: Annotated[float, Strict(), Field(gt=0, le=1, allow_inf_nan=False)] = 0.5
    early_stopping_patience: Annotated[int, Strict(), Field(ge=0)] = 5
    augment: Annotated[bool, Strict()] = True
    guidance_weight: Annotated[float, Strict(), Field(ge=0, allow_inf_nan=False)] = 0.0
    device: Annotated[str, Strict(), AfterValidator(_device)] = "auto"
    channels_last: Annotated[bool, Strict()] = False
    precision: Literal[PRECISIONS] = "float32"  # type: ignore[valid-type]
    monitor: Literal[MONITORS] = "val_loss"  # type: ignore[valid-type]
    min_learning_rate: Annotated[float, Strict(), Field(ge=0, allow_inf_nan=False)] = 0.0
    adam_epsilon: Annotated[float, Strict(), Field(gt=0, allow_inf_nan=False)] = 1e-8
    init: Literal[INITIALISATIONS] = "torch"  # type: ignore[valid-type]
    validate_on: Literal[VALIDATION_SPLITS] = "val"  # type: ignore[valid-type]


_CHECKER = TypeAdapter(_CheckedTraining)


class TrainingConfigError(ValueError):
    """A training value of the wrong type or out of range; ``key`` names the field."""

    def __init__(self, key: str, message: str, value: object) -> None:
        self.key = key
        self.value = value
        super().__init__(message)


def validate_training(values: Mapping[str, Any], base: TrainingConfig | None = None) -> TrainingConfig:
    """``base`` (default: the defaults) with ``values`` applied, every field checked.

    Raises :class:`TrainingConfigError` naming the first field at fault.
    """
    merged = {**asdict(base or TrainingConfig()), **dict(values)}
    for name, value in merged.items():  # strict mode would refuse an int for a float
        if (isinstance(value, int) and not isinstance(value, bool)
                and isinstance(getattr(TrainingConfig, name, None), float)):
            merged[name] = float(value)
    try:
        checked = _CHECKER.validate_python(merged)
    except ValidationError as error:
        first = error.errors()[0]
        key = ".".join(str(part) for part in first["loc"]) or "?"
        raise TrainingConfigError(key, first["msg"], first.get("input")) from None
    return TrainingConfig(**asdict(checked))
