"""Regional guidance (Son et al.): penalise relevance outside the ground-truth region.

During a guided training step the model's own relevance map for the true class is read
off the same forward pass:

- CNN with a GAP -> linear head (``ModelInfo.classifier``): the class activation map,
  ``relu(sum_c w[target, c] * A_c)`` over the target layer's activations ``A``;
- other CNNs: the positive channel-mean of the target layer's activations;
- ViT: the class token's attention to the patch tokens in the last attention layer,
  averaged over heads (timm's fused attention is off only inside the step).

The loss is the share of that relevance falling outside the tortuous-region mask (one
minus the relevance mass), averaged over ROP images with a non-empty mask; healthy images
carry no region and are not guided. Being a share, it is scale-free, so one weight
lambda means the same thing for every architecture.
"""

from __future__ import annotations

from contextlib import ExitStack, contextmanager
from typing import Callable, Iterator

import torch
import torch.nn.functional as F
from torch import nn

from ropbench.attention import capture_attention
from ropbench.modelinfo import model_info

__all__ = ["guidance_probe", "guidance_loss", "outside_relevance_share", "RelevanceReader"]

RelevanceReader = Callable[[torch.Tensor], torch.Tensor]
_EPS = 1e-8


def outside_relevance_share(relevance: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """Per image, the share of non-negative ``relevance`` [N, h, w] outside ``masks`` [N, H, W].

    The mask is area-averaged onto the relevance grid, so a cell half inside the region
    counts half; differentiable in ``relevance``.
    """
    inside = F.adaptive_avg_pool2d(masks[:, None].to(relevance.dtype), relevance.shape[-2:])[:, 0]
    total = relevance.sum(dim=(1, 2))
    outside = (relevance * (1.0 - inside)).sum(dim=(1, 2))
    return outside / (total + _EPS)


def guidance_loss(relevance: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """Mean outside-share over images whose mask is non-empty (0 when there are none)."""
    guided = masks.flatten(1).any(dim=1)
    if not bool(guided.any()):
        return relevance.sum() * 0.0  # keeps the graph shape stable
    return outside_relevance_share(relevance[guided], masks[guided]).mean()


def _cnn_reader(model: nn.Module, stack: ExitStack) -> RelevanceReader:
    info = model_info(model)
    captured: list[torch.Tensor] = []

    def record(_module: nn.Module, _inputs: tuple, output: torch.Tensor) -> None:
        captured.append(output)

    handle = model.get_submodule(info.target_layer).register_forward_hook(record)
    stack.callback(handle.remove)
    classifier = model.get_submodule(info.classifier) if info.classifier else None

    def read(targets: torch.Tensor) -> torch.Tensor:
        # Under bfloat16 autocast the hooked map is bfloat16; the guidance share (a ratio of
        # sums) is computed in float32 like the loss it is added to.
        activations = captured[-1].float()
        if classifier is None:
            return activations.mean(dim=1).clamp(min=0)
        class_weights = classifier.weight[targets]  # [N, C]
        cam = torch.einsum("nchw,nc->nhw", activations, class_weights)
        return cam.clamp(min=0)

    return read


def _vit_reader(model: nn.Module, stack: ExitStack) -> RelevanceReader:
    info = model_info(model)
    if info.num_prefix_tokens < 1 or not info.attention_layers or info.token_grid is None:
        raise ValueError("ViT guidance needs a class token, attention layers and a token grid in ModelInfo")
    maps = stack.enter_context(capture_attention(model, layers=info.attention_layers[-1:]))
    rows, cols = info.token_grid

    def read(_targets: torch.Tensor) -> torch.Tensor:
        attention = maps[-1].float()  # [N, heads, T, T]; float32 under autocast too
        to_patches = attention[:, :, 0, info.num_prefix_tokens:].mean(dim=1)
        return to_patches.reshape(-1, rows, cols)

    return read


@contextmanager
def guidance_probe(model: nn.Module) -> Iterator[RelevanceReader]:
    """Hooks that expose, after a forward pass inside the block, ``read(targets) -> [N, h, w]``.

    Raises ``ValueError`` at once for a model whose ModelInfo gives nothing to guide.
    """
    info = model_info(model)
    with ExitStack() as stack:
        reader = _cnn_reader(model, stack) if info.family == "cnn" else _vit_reader(model, stack)
        yield reader
