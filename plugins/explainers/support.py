"""Which models an explainer applies to, read from :func:`ropbench.modelinfo.model_info`.

A model without ModelInfo supports only the model-independent controls.
"""

from __future__ import annotations

from torch import nn

from ropbench.modelinfo import MissingModelInfoError, ModelInfo, model_info

__all__ = ["any_model", "is_cnn", "is_vit", "has_gap_head", "has_attention", "has_relu_modules"]


def _info(model: nn.Module) -> ModelInfo | None:
    try:
        return model_info(model)
    except MissingModelInfoError:
        return None


def any_model(model: nn.Module) -> bool:
    """Controls ignore the model."""
    return True


def is_cnn(model: nn.Module) -> bool:
    """A convolutional model with a spatial target layer (CAM family)."""
    info = _info(model)
    return info is not None and info.family == "cnn" and bool(info.target_layer)


def is_vit(model: nn.Module) -> bool:
    """A vision transformer with a known patch size (token-map GradCAM)."""
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
