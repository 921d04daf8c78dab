"""timm models at any image size, with the explainer facts read off the built model.

Every timm-backed architecture (the named CNNs and ViTs and ``timm:<name>``) goes
through :func:`build_timm_model`, so they all honour the same rules: random
initialisation by default, initial weights only from a local file, and a
:class:`~ropbench.modelinfo.ModelInfo` derived from the model itself (never from a
table that could drift from timm).
"""

from __future__ import annotations

from typing import Any, Mapping

from torch import nn

from ropbench.modelinfo import ModelInfo, attach_model_info
from ropbench_plugins.architectures.weights import read_state_dict, refuse_hub_download

__all__ = ["build_timm_model", "create_timm_model", "timm_model_info", "is_vit_like"]

# Top-level children that belong to the head, not to the feature extractor.
_HEAD_NAMES = frozenset({"head", "fc", "classifier", "global_pool", "head_drop", "pre_logits", "fc_norm", "head_dist"})
# Containers whose last child is the last feature stage (ConvNeXt "stages", ...).
_STAGE_CONTAINERS = frozenset({"stages", "blocks", "layers"})


def is_vit_like(model: nn.Module) -> bool:
    """A plain ViT: patch embedding, a flat list of blocks and prefix tokens (ViT, DeiT, ...)."""
    return all(hasattr(model, name) for name in ("patch_embed", "blocks", "num_prefix_tokens"))


def _cnn_target_layer(model: nn.Module) -> str:
    """The last feature module before the head, descending into a stage container."""
    candidates = []
    for name, child in model.named_children():
        if name in _HEAD_NAMES:  # everything from the pool / head on is not a feature map
            break
        if not isinstance(child, (nn.Identity, nn.Dropout)):
            candidates.append((name, child))
    if not candidates:
        raise ValueError(f"{type(model).__name__}: no feature module found for the CNN target layer")
    name, child = candidates[-1]
    if name in _STAGE_CONTAINERS and isinstance(child, (nn.Sequential, nn.ModuleList)) and len(child):
        name = f"{name}.{len(child) - 1}"
    return name


def _gap_linear_classifier(model: nn.Module) -> str | None:
    """The head Linear when logits = Linear(global average pool(features)), else None.

    Only model classes whose head is exactly pool -> (dropout) -> linear qualify; ConvNeXt,
    for one, normalises the pooled features first, so CAM on its classifier weights
    would be wrong.
    """
    from timm.models.efficientnet import EfficientNet
    from timm.models.resnet import ResNet

    pool = getattr(model, "global_pool", None)
    if not isinstance(model, (ResNet, EfficientNet)) or getattr(pool, "pool_type", None) != "avg":
        return None
    for name, child in model.named_children():
        if child is model.get_classifier() and isinstance(child, nn.Linear):
            return name
    return None


def timm_model_info(model: nn.Module) -> ModelInfo:
    """Explainer facts of a built timm model (CNN or plain ViT)."""
    if is_vit_like(model):
        patch = model.patch_embed.patch_size
        grid = model.patch_embed.grid_size
        blocks = model.blocks
        attention_layers = tuple(
            f"blocks.{index}.{name}"
            for index, block in enumerate(blocks)
            for name, module in block.named_modules()
            if name and hasattr(module, "fused_attn")
        )
        return ModelInfo(
            family="vit",
            target_layer=f"blocks.{len(blocks) - 1}",
            patch_size=int(patch[0]),
            token_grid=(int(grid[0]), int(grid[1])),
            num_prefix_tokens=int(model.num_prefix_tokens),
            attention_layers=attention_layers,
        )
    return ModelInfo(family="cnn", target_layer=_cnn_target_layer(model), classifier=_gap_linear_classifier(model))


def create_timm_model(model_name: str, image_size: int, **kwargs: Any) -> nn.Module:
    """``timm.create_model`` at ``image_size`` (passed to models that take one, e.g. ViTs).

    Never downloads: callers pass ``pretrained=True`` only with a local file overlay.
    """
    import timm  # here, not at module level: importing timm (and torchvision) takes seconds

    if not timm.is_model(model_name.split(".")[0]):
        close = timm.list_models(f"*{model_name}*")[:8]
        hint = f"; similar: {', '.join(close)}" if close else ""
        raise ValueError(f"timm has no model {model_name!r}{hint}")
    try:
        return timm.create_model(model_name, img_size=image_size, **kwargs)
    except TypeError as error:
        if "img_size" not in str(error):
            raise
    return timm.create_model(model_name, **kwargs)


def _check_patch_divides(model: nn.Module, image_size: int, model_name: str) -> None:
    if is_vit_like(model):
        patch = int(model.patch_embed.patch_size[0])
        if image_size % patch:
            raise ValueError(f"{model_name}: image size {image_size} is not a multiple of the patch size {patch}")


def _load_weights(model: nn.Module, model_name: str, image_size: int, weights: str, kwargs: Mapping[str, Any]) -> nn.Module:
    """An exact state dict loads strictly; anything else goes through timm's adapters
    (classifier dropped when the class count differs, position embeddings resampled to
    the image size), reading the same local file."""
    state = read_state_dict(weights)
    own = model.state_dict()
    if state.keys() == own.keys() and all(state[k].shape == own[k].shape for k in own):
        model.load_state_dict(state, strict=True)
        return model
    return create_timm_model(
        model_name, image_size, pretrained=True, pretrained_cfg_overlay={"file": weights}, **kwargs
    )


def build_timm_model(
    num_classes: int,
    image_size: int,
    *,
    model_name: str,
    pretrained: bool = False,
    weights: str = "",
    model_kwargs: Mapping[str, Any] | None = None,
    architecture: str | None = None,
) -> nn.Module:
    """A timm model for ``num_classes`` at ``image_size`` carrying its ModelInfo.

    :param model_name: timm's name, e.g. ``vit_tiny_patch16_224``.
    :param pretrained: start from pretrained weights; requires ``weights``.
    :param weights: local checkpoint (``.safetensors`` / ``.pth``).
    :param model_kwargs: extra keyword arguments for ``timm.create_model`` (e.g. ``depth``).
    :param architecture: the ropbench name, for messages.
    """
    label = architecture or f"timm:{model_name}"
    if not model_name:
        raise ValueError(f"{label}: model_name is empty; use timm:<model name>, e.g. timm:resnet34")
    if pretrained and not weights:
        refuse_hub_download(label)
    kwargs = dict(model_kwargs or {})
    kwargs["num_classes"] = num_classes
    model = create_timm_model(model_name, image_size, pretrained=False, **kwargs)
    _check_patch_divides(model, image_size, label)
    if weights:
        model = _load_weights(model, model_name, image_size, weights, kwargs)
    return attach_model_info(model, timm_model_info(model))
