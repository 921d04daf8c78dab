"""What explainers need to know about a built model, exposed the same way for all.

Architecture builders call :func:`attach_model_info`; explainers call
:func:`model_info`. Keeping it on the module (not in a side table) means a model loaded
from a checkpoint and rebuilt by its spec carries it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from torch import nn

__all__ = ["ModelInfo", "attach_model_info", "model_info", "MissingModelInfoError"]

_ATTRIBUTE = "ropbench_model_info"


class MissingModelInfoError(AttributeError):
    """The model was not built by a ropbench architecture spec."""


@dataclass(frozen=True)
class ModelInfo:
    """Explainer-facing facts about a model.

    :param family: ``cnn`` or ``vit``.
    :param target_layer: dotted name (``model.get_submodule``) of the CNN feature layer
        whose activations CAM methods weight; for ViTs the block whose tokens GradCAM
        reshapes to the token grid.
    :param classifier: dotted name of the final ``nn.Linear`` when the model is
        features -> global average pool -> linear (CAM applies); else None.
    :param patch_size: ViT patch side in pixels.
    :param token_grid: ViT patch-token grid (rows, cols) at the built image size.
    :param num_prefix_tokens: class, distillation and register tokens before the patches.
    :param attention_layers: dotted names of the attention modules, input to output.
    """

    family: Literal["cnn", "vit"]
    target_layer: str
    classifier: str | None = None
    patch_size: int | None = None
    token_grid: tuple[int, int] | None = None
    num_prefix_tokens: int = 0
    attention_layers: tuple[str, ...] = ()

    @property
    def has_gap_head(self) -> bool:
        return self.classifier is not None


def attach_model_info(model: nn.Module, info: ModelInfo) -> nn.Module:
    """Record ``info`` on ``model`` (returned for chaining)."""
    object.__setattr__(model, _ATTRIBUTE, info)
    return model


def model_info(model: nn.Module) -> ModelInfo:
    """The :class:`ModelInfo` of a model built by an architecture spec."""
    info = getattr(model, _ATTRIBUTE, None)
    if info is None:
        raise MissingModelInfoError(
            f"{type(model).__name__} carries no ModelInfo; build it through an architecture "
            "spec or call ropbench.modelinfo.attach_model_info(model, ModelInfo(...))"
        )
    return info
