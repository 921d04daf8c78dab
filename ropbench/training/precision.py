"""Training precision: float32, or bfloat16 autocast where the hardware computes it natively.

``TrainingConfig.precision`` is ``float32``, ``bfloat16`` or ``auto``. Under ``bfloat16``
the training step's forward pass runs in ``torch.autocast(dtype=torch.bfloat16)``:
convolutions and matrix products in bfloat16, weights, gradients, the optimiser state and
the loss in float32 (bfloat16 keeps float32's exponent range, so no loss scaling is
needed). Validation, test predictions and explainers always run in float32.

``auto`` is a per-architecture-family choice measured on this project's CPU (the table
in docs/architectures.md, ``benchmarks/bench_architectures.py``): bfloat16 where it was
faster without costing accuracy, and only on a device that computes bfloat16 natively
(AVX-512 BF16 / AMX on a CPU, compute capability 8 or more on CUDA). Elsewhere bfloat16
is emulated and slower than float32, so ``auto`` falls back to float32.
"""

from __future__ import annotations

import contextlib
from typing import ContextManager, Literal

import torch
from torch import nn

from ropbench.modelinfo import model_info
from ropbench.training.config import PRECISIONS

__all__ = ["Precision", "AUTO_BFLOAT16_FAMILIES", "native_bfloat16", "resolve_precision",
           "autocast"]

Precision = Literal["float32", "bfloat16"]

# Families ``auto`` trains in bfloat16 (docs/architectures.md, "Training precision").
AUTO_BFLOAT16_FAMILIES: frozenset[str] = frozenset({"cnn", "vit"})


def native_bfloat16(device: torch.device) -> bool:
    """Whether ``device`` has bfloat16 arithmetic in hardware (not emulated)."""
    if device.type == "cuda":
        return bool(torch.cuda.is_bf16_supported(including_emulation=False))
    if device.type == "cpu":
        return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
    return False


def resolve_precision(requested: str, model: nn.Module, device: torch.device) -> Precision:
    """The precision ``model`` trains in on ``device``: ``requested`` unless it is ``auto``."""
    if requested == "float32" or requested == "bfloat16":
        return requested
    if requested != "auto":
        raise ValueError(f"precision must be one of {PRECISIONS}, got {requested!r}")
    if model_info(model).family in AUTO_BFLOAT16_FAMILIES and native_bfloat16(device):
        return "bfloat16"
    return "float32"


def autocast(precision: Precision, device: torch.device) -> ContextManager[object]:
    """The forward-pass context of a training step in ``precision``."""
    if precision == "bfloat16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()
