"""The ViT family: attention rollout, gradient-weighted rollout, class-token attention.

All three read attention probabilities ``[N, heads, T, T]`` captured by
:func:`ropbench.attention.capture_attention` and return the relevance of the patch
tokens for the *readout* tokens, reshaped to the patch grid of the actual input and
upsampled. The readout rows are the tokens the head reads: the class token, class and
distillation tokens (DeiT, whose head averages both), or every patch token for
average-pooled models. Register tokens are prefix tokens the head does not read.
"""

from __future__ import annotations

import torch
from torch import nn

from ropbench.attention import capture_attention
from ropbench.modelinfo import ModelInfo, model_info
from ropbench.specs import ExplainContext, ExplainerSpec
from ropbench_plugins.explainers.explaining import explaining, target_scores, upsample_maps
from ropbench_plugins.explainers.support import has_attention

__all__ = ["readout_rows", "fuse_heads", "rollout", "gradient_rollout", "specs"]

HEAD_FUSIONS = ("mean", "max", "min")


def readout_rows(model: nn.Module, info: ModelInfo, tokens: int) -> torch.Tensor:
    """Indices of the tokens whose representation the classification head reads."""
    pooling = getattr(model, "global_pool", "token")
    if info.num_prefix_tokens == 0 or pooling not in ("token", ""):
        return torch.arange(info.num_prefix_tokens, tokens)
    if getattr(model, "dist_token", None) is not None:
        return torch.arange(2)
    return torch.arange(1)


def fuse_heads(attention: torch.Tensor, head_fusion: str) -> torch.Tensor:
    """[N, heads, T, T] -> [N, T, T] by mean, max or min over heads."""
    if head_fusion == "mean":
        return attention.mean(dim=1)
    if head_fusion == "max":
        return attention.amax(dim=1)
    if head_fusion == "min":
        return attention.amin(dim=1)
    raise ValueError(f"head_fusion must be one of {HEAD_FUSIONS}, got {head_fusion!r}")


def _discard_lowest(fused: torch.Tensor, discard_ratio: float) -> torch.Tensor:
    """Zero the lowest ``discard_ratio`` of each image's entries, keeping [0, 0] (the
    class token's attention to itself), as the reference rollout implementation does."""
    n, t, _ = fused.shape
    count = int(t * t * discard_ratio)
    if count <= 0:
        return fused
    flat = fused.reshape(n, t * t).clone()
    lowest = flat.topk(count, dim=1, largest=False).indices
    keep = torch.zeros_like(flat, dtype=torch.bool)
    keep.scatter_(1, lowest, True)
    keep[:, 0] = False
    return flat.masked_fill(keep, 0.0).view(n, t, t)


def rollout(attentions: list[torch.Tensor], head_fusion: str, discard_ratio: float) -> torch.Tensor:
    """Abnar & Zuidema (2020): product over layers of row-normalised (A + I) / 2, [N, T, T]."""
    result = None
    for attention in attentions:
        fused = _discard_lowest(fuse_heads(attention.to(torch.float32), head_fusion), discard_ratio)
        identity = torch.eye(fused.shape[-1], device=fused.device, dtype=fused.dtype)
        mixed = (fused + identity) / 2
        mixed = mixed / mixed.sum(dim=-1, keepdim=True)
        result = mixed if result is None else mixed @ result
    return result


def gradient_rollout(attentions: list[torch.Tensor], gradients: list[torch.Tensor]) -> torch.Tensor:
    """Chefer et al. (2021): R = I; per layer R += mean_heads((grad * A)+) @ R, [N, T, T]."""
    first = attentions[0]
    relevance = torch.eye(first.shape[-1], device=first.device, dtype=torch.float32).expand(first.shape[0], -1, -1)
    for attention, gradient in zip(attentions, gradients):
        weighted = (gradient * attention).clamp_min(0).mean(dim=1).to(torch.float32)
        relevance = relevance + weighted @ relevance
    return relevance


def _patch_relevance(model: nn.Module, matrix: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
    """Readout rows x patch columns of a [N, T, T] matrix -> [N, H, W] heatmaps."""
    info = model_info(model)
    rows_in_grid, cols_in_grid = images.shape[-2] // info.patch_size, images.shape[-1] // info.patch_size
    tokens = matrix.shape[-1]
    if tokens - info.num_prefix_tokens != rows_in_grid * cols_in_grid:
        raise ValueError(f"{tokens} tokens do not form a {rows_in_grid}x{cols_in_grid} patch grid")
    rows = readout_rows(model, info, tokens).to(matrix.device)
    relevance = matrix[:, rows, info.num_prefix_tokens :].mean(dim=1)
    grid = relevance.reshape(-1, rows_in_grid, cols_in_grid)
    return upsample_maps(grid, (images.shape[-2], images.shape[-1]))


def _attention_maps(model: nn.Module, images: torch.Tensor, targets: torch.Tensor, with_grad: bool):
    info = model_info(model)
    with capture_attention(model, with_grad=with_grad, layers=info.attention_layers) as maps:
        if with_grad:
            images = images.detach().requires_grad_(True)
            target_scores(model(images), targets).sum().backward()
        else:
            model(images)
    return list(maps)


def explain_rollout(
    model: nn.Module,
    images: torch.Tensor,
    targets: torch.Tensor,
    context: ExplainContext,
    *,
    head_fusion: str = "mean",
    discard_ratio: float = 0.0,
) -> torch.Tensor:
    """Attention rollout (class-agnostic)."""
    with explaining(model), torch.no_grad():
        maps = _attention_maps(model, images, targets, with_grad=False)
        return _patch_relevance(model, rollout(maps, head_fusion, discard_ratio), images)


def explain_gradient_rollout(
    model: nn.Module, images: torch.Tensor, targets: torch.Tensor, context: ExplainContext
) -> torch.Tensor:
    """Gradient-weighted rollout (Chefer et al. 2021), class-specific."""
    with explaining(model), torch.enable_grad():
        maps = _attention_maps(model, images, targets, with_grad=True)
        gradients = [m.grad for m in maps]
        attentions = [m.detach() for m in maps]
    with torch.no_grad():
        return _patch_relevance(model, gradient_rollout(attentions, gradients), images)


def explain_cls_attention(
    model: nn.Module,
    images: torch.Tensor,
    targets: torch.Tensor,
    context: ExplainContext,
    *,
    head_fusion: str = "mean",
) -> torch.Tensor:
    """Last-layer attention of the readout tokens to the patches."""
    with explaining(model), torch.no_grad():
        last = _attention_maps(model, images, targets, with_grad=False)[-1]
        return _patch_relevance(model, fuse_heads(last.to(torch.float32), head_fusion), images)


def specs() -> list[ExplainerSpec]:
    return [
        ExplainerSpec(
            name="attention-rollout",
            explain=explain_rollout,
            supports=has_attention,
            version="1",
            params={"head_fusion": "mean", "discard_ratio": 0.0},
            description="Attention rollout (Abnar & Zuidema 2020): identity added, rows normalised.",
        ),
        ExplainerSpec(
            name="grad-rollout",
            explain=explain_gradient_rollout,
            supports=has_attention,
            version="1",
            params={},
            description="Gradient-weighted attention rollout (Chefer et al. 2021, generic explainability).",
        ),
        ExplainerSpec(
            name="cls-attention",
            explain=explain_cls_attention,
            supports=has_attention,
            version="1",
            params={"head_fusion": "mean"},
            description="Last-layer attention of the class token(s) to the patch tokens.",
        ),
    ]
