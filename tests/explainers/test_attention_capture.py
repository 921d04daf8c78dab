"""capture_attention records the exact attention matrices of timm ViTs and cleans up."""

from __future__ import annotations

import pytest
import torch
from timm.models.vision_transformer import VisionTransformer

from ropbench.attention import attention_modules, capture_attention


def tiny_vit(img_size=(48, 32), patch_size=8, class_token=True, reg_tokens=0) -> VisionTransformer:
    torch.manual_seed(0)
    return VisionTransformer(
        img_size=img_size, patch_size=patch_size, embed_dim=32, depth=3, num_heads=4,
        num_classes=2, class_token=class_token, reg_tokens=reg_tokens,
        global_pool="token" if class_token else "avg",
    ).eval()


@pytest.mark.parametrize("reg_tokens", [0, 2])
def test_captures_row_stochastic_maps_of_every_layer(reg_tokens):
    model = tiny_vit(reg_tokens=reg_tokens)
    images = torch.randn(2, 3, 48, 32)
    with torch.no_grad():
        fused_logits = model(images)
        with capture_attention(model) as maps:
            logits = model(images)
    tokens = 1 + reg_tokens + (48 // 8) * (32 // 8)
    assert len(maps) == 3
    for attention in maps:
        assert attention.shape == (2, 4, tokens, tokens)
        torch.testing.assert_close(attention.sum(-1), torch.ones(2, 4, tokens))
    # The explicit path computes the same function as the fused kernel.
    torch.testing.assert_close(logits, fused_logits, atol=1e-5, rtol=1e-5)


def test_first_map_equals_softmax_of_scaled_query_key_products():
    model = tiny_vit()
    images = torch.randn(3, 3, 48, 32)
    block = model.blocks[0]
    with torch.no_grad(), capture_attention(model) as maps:
        model(images)
        tokens = model.norm_pre(model._pos_embed(model.patch_embed(images)))
        normed = block.norm1(tokens)
        qkv = block.attn.qkv(normed).reshape(3, tokens.shape[1], 3, 4, 8).permute(2, 0, 3, 1, 4)
        expected = (qkv[0] @ qkv[1].transpose(-2, -1) * 8 ** -0.5).softmax(-1)
    torch.testing.assert_close(maps[0], expected)


def test_restores_fused_flags_and_removes_hooks_even_on_error():
    model = tiny_vit()
    modules = attention_modules(model)
    for module in modules:
        module.fused_attn = True
    with pytest.raises(RuntimeError):
        with capture_attention(model):
            assert all(module.fused_attn is False for module in modules)
            raise RuntimeError("boom")
    assert all(module.fused_attn is True for module in modules)
    assert all(not module.attn_drop._forward_hooks for module in modules)


def test_with_grad_retains_attention_gradients():
    model = tiny_vit()
    images = torch.randn(2, 3, 48, 32)
    with capture_attention(model, with_grad=True) as maps:
        model(images)[:, 1].sum().backward()
    grads = maps.gradients
    assert len(grads) == 3
    assert all(g is not None and g.shape == m.shape for g, m in zip(grads, maps))
    assert any(g.abs().sum() > 0 for g in grads)


def test_named_layers_select_a_subset():
    model = tiny_vit()
    with torch.no_grad(), capture_attention(model, layers=("blocks.2.attn",)) as maps:
        model(torch.randn(1, 3, 48, 32))
    assert len(maps) == 1
