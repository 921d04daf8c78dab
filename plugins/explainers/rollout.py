"""The ViT family: attention rollout, gradient-weighted rollout, class-token attention.

All three read attention probabilities ``[N, heads, T, T]`` captured by
:func:`ropbench.attention.capture_attention` and return the relevance of the patch
tokens for the *readout* tokens, reshaped to the patch grid of the actual input and
upsampled. The readout rows are the tokens the head reads: the class token, class and
distillation tokens (DeiT, whose head averages both), or every patch token for
average-pooled models. Register tokens are prefix tokens the head does not read.

``attention-rollout-study`` is rollout exactly as the study ran it (its ``vit_keras``
code, see DESIGN.md): heads fused by max, identity added, each layer divided by the sum
of all its entries, layers multiplied last layer leftmost, the class token's row,
bilinear resizing with half-pixel centres, each map divided by its maximum.
"""

from __future__ import annotations

import torch
from torch import nn

from ropbench import hookimpl
from ropbench.attention import capture_attention
from ropbench.explaining import explaining, has_attention, target_scores, upsample_maps
from ropbench.modelinfo import ModelInfo, model_info
from ropbench.specs import ExplainContext, ExplainerSpec

__all__ = ["ropbench_register_explainers", "readout_rows", "fuse_heads", "rollout", "gradient_rollout", "divide_by_max", "STUDY_ROLLOUT", "specs"]

HEAD_FUSIONS = ("mean", "max", "min")
NORMALIZATIONS = ("row", "total")
# The study's settings (vit_keras attention_map as the study edited it: max fusion,
# although its comment still says "average").
STUDY_ROLLOUT = {"head_fusion": "max", "discard_ratio": 0.0, "normalization": "total", "final_max_division": True}


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


def rollout(
    attentions: list[torch.Tensor], head_fusion: str, discard_ratio: float, normalization: str = "row"
) -> torch.Tensor:
    """Abnar & Zuidema (2020): ``M_L @ ... @ M_2 @ M_1``, [N, T, T], where ``M_l`` is layer
    l's fused attention (``attentions`` are input side first) plus the identity, normalised.

    ``normalization="row"``: each row of ``M_l`` sums to 1 (the paper's re-normalisation;
    adding I then halving, as the paper writes it, is the same after this).
    ``normalization="total"``: ``M_l`` divided by the sum of all its entries (the study's
    code). With mean fusion every row of A + I sums to 2, so "total" is "row" divided by
    T per layer; with max or min fusion the rows' sums differ and so do the maps.
    """
    if normalization not in NORMALIZATIONS:
        raise ValueError(f"normalization must be one of {NORMALIZATIONS}, got {normalization!r}")
    result = None
    for attention in attentions:
        fused = _discard_lowest(fuse_heads(attention.to(torch.float32), head_fusion), discard_ratio)
        mixed = fused + torch.eye(fused.shape[-1], device=fused.device, dtype=fused.dtype)
        totals = mixed.sum(dim=-1, keepdim=True) if normalization == "row" else mixed.sum(dim=(-2, -1), keepdim=True)
        mixed = mixed / totals
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


def _patch_grid(model: nn.Module, matrix: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
    """Readout rows x patch columns of a [N, T, T] matrix -> [N, rows, cols] patch grid."""
    info = model_info(model)
    rows_in_grid, cols_in_grid = images.shape[-2] // info.patch_size, images.shape[-1] // info.patch_size
    tokens = matrix.shape[-1]
    if tokens - info.num_prefix_tokens != rows_in_grid * cols_in_grid:
        raise ValueError(f"{tokens} tokens do not form a {rows_in_grid}x{cols_in_grid} patch grid")
    rows = readout_rows(model, info, tokens).to(matrix.device)
    relevance = matrix[:, rows, info.num_prefix_tokens :].mean(dim=1)
    return relevance.reshape(-1, rows_in_grid, cols_in_grid)


def _patch_relevance(model: nn.Module, matrix: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
    """Readout rows x patch columns of a [N, T, T] matrix -> [N, H, W] heatmaps."""
    return upsample_maps(_patch_grid(model, matrix, images), images.shape[-2:])


def divide_by_max(grids: torch.Tensor) -> torch.Tensor:
    """Each [h, w] map of [N, h, w] divided by its maximum (maps whose maximum is not
    positive are left as they are: dividing would flip or blow them up)."""
    highest = grids.amax(dim=(-2, -1), keepdim=True)
    return torch.where(highest > 0, grids / highest.where(highest > 0, torch.ones_like(highest)), grids)


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
    normalization: str = "row",
    final_max_division: bool = False,
) -> torch.Tensor:
    """Attention rollout (class-agnostic), see :func:`rollout`.

    ``final_max_division``: divide each image's patch map by its maximum before
    upsampling, as the study did. The harness contract asks for raw maps; this is
    allowed only as this documented study option (the percentile metrics are
    invariant to it; whole-image metrics that compare magnitudes across images are not).
    Division by a positive constant commutes with bilinear resizing, so dividing
    before or after upsampling gives the same map.
    """
    with explaining(model), torch.no_grad():
        maps = _attention_maps(model, images, targets, with_grad=False)
        grids = _patch_grid(model, rollout(maps, head_fusion, discard_ratio, normalization), images)
        if final_max_division:
            grids = divide_by_max(grids)
        return upsample_maps(grids, images.shape[-2:])


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
            params={"head_fusion": "mean", "discard_ratio": 0.0, "normalization": "row", "final_max_division": False},
            description="Attention rollout (Abnar & Zuidema 2020): identity added, rows normalised.",
        ),
        ExplainerSpec(
            name="attention-rollout-study",
            explain=explain_rollout,
            supports=has_attention,
            version="1",
            params=dict(STUDY_ROLLOUT),
            description="Attention rollout as the study ran it: max fusion, whole-matrix normalisation, max division.",
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


@hookimpl
def ropbench_register_explainers() -> list[ExplainerSpec]:
    return specs()
