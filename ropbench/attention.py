"""Capturing the attention probabilities of timm vision transformers.

timm's ``Attention`` modules normally run fused scaled-dot-product attention, which never
materialises the attention matrix. Inside :func:`capture_attention` they take the
explicit path (``fused_attn`` off, restored on exit), and a forward hook on each
module's ``attn_drop`` records the softmax output ``[N, heads, T, T]`` (T = prefix
tokens + patch tokens). In eval mode ``attn_drop`` is the identity, so what is recorded
is exactly the matrix that multiplies the values.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator, Sequence

import torch
from torch import nn

__all__ = ["AttentionMaps", "attention_modules", "capture_attention"]


class AttentionMaps(list):
    """Per-layer attention probabilities ``[N, heads, T, T]``, input side first.

    A plain list of tensors (one per attention module per forward pass). With
    ``with_grad=True`` each tensor retains its gradient, so after ``backward`` the
    matching gradients are in :attr:`gradients`.
    """

    @property
    def gradients(self) -> list[torch.Tensor | None]:
        """``tensor.grad`` of each recorded map (None before backward)."""
        return [tensor.grad for tensor in self]


def attention_modules(model: nn.Module, names: Sequence[str] = ()) -> list[nn.Module]:
    """The attention modules of ``model``: the named ones, else every timm-style one.

    A timm-style attention module has a ``fused_attn`` flag and an ``attn_drop``
    submodule applied to the attention probabilities.
    """
    if names:
        modules = [model.get_submodule(name) for name in names]
    else:
        modules = [
            module
            for module in model.modules()
            if hasattr(module, "fused_attn") and isinstance(getattr(module, "attn_drop", None), nn.Module)
        ]
    for module in modules:
        if not isinstance(getattr(module, "attn_drop", None), nn.Module):
            raise TypeError(
                f"{type(module).__name__} has no attn_drop submodule; capture_attention "
                "supports timm-style attention modules only"
            )
    return modules


@contextmanager
def capture_attention(
    model: nn.Module, *, with_grad: bool = False, layers: Sequence[str] = ()
) -> Iterator[AttentionMaps]:
    """Record attention probabilities of every forward pass made inside the block.

    :param model: a timm ViT / DeiT (or any model with timm-style attention modules).
    :param with_grad: retain each map's gradient (the forward must run with autograd on).
    :param layers: dotted names of the attention modules (e.g. ``ModelInfo.attention_layers``);
        empty means every timm-style attention module, in module order.
    :yield: an :class:`AttentionMaps` list, filled in forward order.

    Hooks are removed and ``fused_attn`` flags restored on exit, even on error.
    """
    modules = attention_modules(model, layers)
    maps = AttentionMaps()

    def record(_module: nn.Module, _inputs: tuple, output: torch.Tensor) -> None:
        if with_grad and output.requires_grad:
            output.retain_grad()
        maps.append(output)

    fused_flags = [module.fused_attn for module in modules]
    handles = []
    try:
        for module in modules:
            # The fused kernel never forms the attention matrix; the explicit path does.
            module.fused_attn = False
            handles.append(module.attn_drop.register_forward_hook(record))
        yield maps
    finally:
        for handle in handles:
            handle.remove()
        for module, flag in zip(modules, fused_flags):
            module.fused_attn = flag
