"""Devices and inference: softmax probabilities under ``torch.inference_mode``."""

from __future__ import annotations

import torch
from torch import nn

from ropbench.imaging import to_model_input
from ropbench.training.config import TrainingConfig
from ropbench.training.sampling import batch_slices

__all__ = ["resolve_device", "predict_probabilities", "input_memory_format"]


def resolve_device(config: TrainingConfig | str) -> torch.device:
    """``auto`` means CUDA when present; an explicit ``cuda`` without CUDA is an error."""
    requested = config.device if isinstance(config, TrainingConfig) else config
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if requested.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(f"device {requested!r} requested but CUDA is not available on this machine")
    return torch.device(requested)


def input_memory_format(model: nn.Module) -> torch.memory_format:
    """channels-last when the model's first 4-D weight is stored that way, else contiguous."""
    for parameter in model.parameters():
        if parameter.dim() == 4:
            if parameter.is_contiguous(memory_format=torch.channels_last) and not parameter.is_contiguous():
                return torch.channels_last
            break
    return torch.contiguous_format


def predict_probabilities(
    model: nn.Module, images_uint8: torch.Tensor, *, batch_size: int, device: torch.device | str
) -> torch.Tensor:
    """Class probabilities float32 [N, C] on the CPU, model in eval mode, batched.

    :param images_uint8: uint8 [N, 3, H, W] as stored; converted by ``to_model_input``.
    """
    device = torch.device(device)
    model.to(device).eval()
    memory_format = input_memory_format(model)
    outputs = []
    with torch.inference_mode():
        for rows in batch_slices(len(images_uint8), batch_size):
            inputs = to_model_input(images_uint8[rows]).to(device).contiguous(memory_format=memory_format)
            outputs.append(torch.softmax(model(inputs).float(), dim=1).cpu())
    if not outputs:
        raise ValueError("no images to predict")
    return torch.cat(outputs)
