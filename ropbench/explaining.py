"""What every explainer shares: a guarded model, target scores, upsampling, the model's
explanation grid, and the ``supports`` predicates.

The built-in explainers use exactly these helpers and nothing private, so a third-party
explainer written with :mod:`ropbench.explaining`, :mod:`ropbench.modelinfo` and
:mod:`ropbench.specs` alone behaves like a built-in one::

    from ropbench.explaining import explaining, is_cnn, target_scores, upsample_maps
    from ropbench.modelinfo import model_info

    def explain_my_cam(model, images, targets, context):
        layer = model.get_submodule(model_info(model).target_layer)
        ...  # a forward hook on ``layer`` inside ``with explaining(model):``
        return upsample_maps(maps, images.shape[-2:])

A model without :class:`~ropbench.modelinfo.ModelInfo` supports only ``any_model``
explainers (the model-independent controls and the input-gradient family).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator
from weakref import WeakKeyDictionary

import torch
import torch.nn.functional as F
from torch import nn

from ropbench.modelinfo import MissingModelInfoError, ModelInfo, model_info

__all__ = [
    "explaining",
    "model_device",
    "target_scores",
    "upsample_maps",
    "forward_channels_last",
    "explanation_grid",
    "any_model",
    "is_cnn",
    "is_vit",
    "has_attention",
    "has_gap_head",
    "has_relu_modules",
]


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


def upsample_maps(maps: torch.Tensor, size: tuple[int, int] | torch.Size) -> torch.Tensor:
    """[N, h, w] -> float32 [N, H, W], bilinear with half-pixel centres (as ``cv2.resize``
    with ``INTER_LINEAR``, which the study used); a map already at ``size`` is only cast."""
    size = (int(size[0]), int(size[1]))
    if tuple(maps.shape[-2:]) == size:
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


class _GridFound(Exception):
    """Raised by the probe hook to stop the forward pass once the target layer has run."""

    def __init__(self, grid: tuple[int, int]) -> None:
        super().__init__(grid)
        self.grid = grid


# Grids depend on the architecture and the input size only, never on the weights.
_GRIDS: "WeakKeyDictionary[nn.Module, dict[tuple[int, int], tuple[int, int]]]" = WeakKeyDictionary()


def explanation_grid(model: nn.Module, image_size: tuple[int, int] | torch.Size) -> tuple[int, int]:
    """(rows, cols) of the model's native explanation grid for ``image_size`` inputs.

    A ViT's patch-token grid (``H // patch_size, W // patch_size``; equal to
    ``ModelInfo.token_grid`` at the size the model was built for); a CNN's spatial size
    of its ``ModelInfo.target_layer`` output, the resolution of its CAMs. The CNN grid
    costs one forward of one zero image, stopped at the target layer, then is cached
    per model and input size.

    :raises ValueError: for a model without ModelInfo, a ``probe``, or a target layer
        whose output is not a [N, C, h, w] map.
    """
    height, width = int(image_size[0]), int(image_size[1])
    info = _info(model)
    if info is None or info.family not in ("cnn", "vit"):
        kind = "carries no ModelInfo" if info is None else f"is a {info.family!r} model"
        raise ValueError(f"{type(model).__name__} {kind}: it has no native explanation grid")
    if info.family == "vit":
        if info.patch_size is not None:
            return height // info.patch_size, width // info.patch_size
        if info.token_grid is not None:
            return info.token_grid
        raise ValueError("a ViT needs ModelInfo.patch_size or token_grid for its explanation grid")
    known = _GRIDS.setdefault(model, {})
    if (height, width) not in known:
        known[(height, width)] = _target_layer_grid(model, info, height, width)
    return known[(height, width)]


def _target_layer_grid(model: nn.Module, info: ModelInfo, height: int, width: int) -> tuple[int, int]:
    def stop(_module: nn.Module, _inputs: tuple, output: torch.Tensor) -> None:
        if not isinstance(output, torch.Tensor) or output.ndim != 4:
            shape = tuple(output.shape) if isinstance(output, torch.Tensor) else type(output).__name__
            raise ValueError(f"target layer {info.target_layer!r} gave {shape}; expected [N, C, h, w]")
        raise _GridFound((int(output.shape[-2]), int(output.shape[-1])))

    parameter = next(model.parameters(), None)
    dtype = parameter.dtype if parameter is not None and parameter.is_floating_point() else torch.float32
    probe = torch.zeros(1, 3, height, width, device=model_device(model), dtype=dtype)
    handle = model.get_submodule(info.target_layer).register_forward_hook(stop)
    try:
        with explaining(model), torch.no_grad():
            model(probe)
    except _GridFound as found:
        return found.grid
    finally:
        handle.remove()
    raise ValueError(f"target layer {info.target_layer!r} did not run in the forward pass")


def _info(model: nn.Module) -> ModelInfo | None:
    try:
        return model_info(model)
    except MissingModelInfoError:
        return None


def any_model(model: nn.Module) -> bool:
    """Every model: for explainers that ignore the model or need only its gradients."""
    return True


def is_cnn(model: nn.Module) -> bool:
    """A convolutional model with a spatial target layer (CAM family)."""
    info = _info(model)
    return info is not None and info.family == "cnn" and bool(info.target_layer)


def is_vit(model: nn.Module) -> bool:
    """A vision transformer with a known patch size (token-map Grad-CAM)."""
    info = _info(model)
    return info is not None and info.family == "vit" and info.patch_size is not None


def has_attention(model: nn.Module) -> bool:
    """A vision transformer whose attention modules are named (rollout family)."""
    info = _info(model)
    return is_vit(model) and info is not None and len(info.attention_layers) > 0


def has_gap_head(model: nn.Module) -> bool:
    """features -> global average pool -> linear: class activation mapping applies."""
    info = _info(model)
    return is_cnn(model) and info is not None and info.has_gap_head


def has_relu_modules(model: nn.Module) -> bool:
    """Guided backprop rewrites the backward pass of ``nn.ReLU`` modules; without any it
    would silently be plain saliency."""
    return _info(model) is not None and any(isinstance(m, nn.ReLU) for m in model.modules())
