"""What every model-based explainer shares: a guarded model, target scores, upsampling."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["explaining", "target_scores", "upsample_maps", "model_device", "forward_channels_last"]


@contextmanager
def explaining(model: nn.Module) -> Iterator[nn.Module]:
    """The model in eval mode with frozen parameters, restored exactly on exit.

    Parameters are frozen because explainers differentiate with respect to activations
    or inputs only: weight gradients would cost a second backward half for nothing and
    would accumulate in ``.grad``. Training flags and ``requires_grad`` are restored per
    module and per parameter, so a partly frozen model comes back as it was.
    """
    training_flags = [(module, module.training) for module in model.modules()]
    grad_flags = [(parameter, parameter.requires_grad) for parameter in model.parameters()]
    try:
        model.eval()
        for parameter, _ in grad_flags:
            parameter.requires_grad_(False)
        yield model
    finally:
        for module, flag in training_flags:
            module.training = flag
        for parameter, flag in grad_flags:
            parameter.requires_grad_(flag)


def model_device(model: nn.Module) -> torch.device:
    """Where the model's parameters live (CPU for a parameter-free module)."""
    parameter = next(model.parameters(), None)
    return parameter.device if parameter is not None else torch.device("cpu")


def target_scores(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """The raw logit of each image's target class, [N] (what the CAM papers differentiate)."""
    return logits.gather(1, targets.view(-1, 1).to(logits.device)).squeeze(1)


def upsample_maps(maps: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """[N, h, w] -> float32 [N, H, W], bilinear with half-pixel centres (as cv2.resize)."""
    if tuple(maps.shape[-2:]) == tuple(size):
        return maps.to(torch.float32)
    resized = F.interpolate(maps[:, None].to(torch.float32), size=size, mode="bilinear", align_corners=False)
    return resized[:, 0]


def forward_channels_last(model: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """``model(images)`` with channels-last input (about twice as fast for oneDNN
    convolutions on CPU); models that ``.view`` a channels-last tensor get NCHW."""
    try:
        return model(images.contiguous(memory_format=torch.channels_last))
    except RuntimeError as error:
        if "view" not in str(error):
            raise
        return model(images.contiguous())
