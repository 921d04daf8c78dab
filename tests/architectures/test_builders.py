"""Architecture builders: the study's networks as specified, local weights, clear errors."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import save_file
from torch import nn

from ropbench.modelinfo import model_info
from ropbench.registry import get_registry
from ropbench.training import build_seeded
from ropbench_plugins.architectures.weights import PretrainedWeightsUnavailable


def _build(name: str, size: int = 32, seed: int = 0, **params):
    spec = get_registry().architectures.get(name)
    return build_seeded(spec, 2, size, {**spec.params, **params}, seed)


def test_seed_cnn_is_the_original_network() -> None:
    model = _build("seed-cnn", 64)
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs] == [16, 32, 64, 128]
    assert all(c.kernel_size == (3, 3) and c.padding == (1, 1) for c in convs)
    assert sum(isinstance(m, nn.MaxPool2d) for m in model.modules()) == 4
    assert sum(isinstance(m, nn.LeakyReLU) for m in model.modules()) == 4
    assert model.dropout.p == 0.5
    assert (model.classifier.in_features, model.classifier.out_features) == (128 * 4 * 4, 2)


def test_seed_cnn_unit_input_sees_the_studys_zero_to_one_images() -> None:
    """ropbench feeds (pixel/255 - 0.5) / 0.5; with unit_input the convolutions see pixel/255,
    so its output on x equals the plain model's (same weights) on x * 0.5 + 0.5."""
    unit, plain = _build("seed-cnn", 32, unit_input=True).eval(), _build("seed-cnn", 32).eval()
    assert all(torch.equal(a, b) for a, b in zip(unit.state_dict().values(), plain.state_dict().values()))
    black = torch.full((1, 3, 32, 32), -1.0)  # a black image as ropbench's input
    torch.testing.assert_close(unit(black), plain(torch.zeros(1, 3, 32, 32)))
    images = torch.rand(2, 3, 32, 32) * 2 - 1
    torch.testing.assert_close(unit(images), plain(images * 0.5 + 0.5))


def test_convstem_vit_takes_sizes_that_are_not_a_multiple_of_its_patch() -> None:
    """At the study's 244 px with 16-px patches the stem resizes to 240: a 15 x 15 token grid,
    which is what explainers derive (244 // 16) when they map tokens back to pixels."""
    model = _build("vit-convstem-tiny", 244, patch_size=16).eval()
    info = model_info(model)
    assert info.token_grid == (15, 15) and info.patch_size == 16 and 244 // info.patch_size == 15
    assert model(torch.zeros(1, 3, 244, 244)).shape == (1, 2)
    with pytest.raises(ValueError, match="smaller than the patch size"):
        _build("vit-convstem-tiny", 12, patch_size=16)


@pytest.mark.parametrize("explainer", ["attention-rollout-study", "vit-gradcam"])
def test_vit_explainers_map_the_resized_grid_back_to_the_input(explainer) -> None:
    from ropbench.specs import ExplainContext

    model = _build("vit-convstem-tiny", 36, patch_size=8).eval()  # stem input 32 px, 4 x 4 tokens
    spec = get_registry().explainers.get(explainer)
    empty = torch.zeros(2, 36, 36, dtype=torch.bool)
    context = ExplainContext(seed=0, vessels=torch.rand(2, 36, 36), masks=empty, tortuous_vessels=empty)
    maps = spec.explain(model, torch.rand(2, 3, 36, 36) * 2 - 1, torch.tensor([0, 1]), context, **spec.params)
    assert maps.shape == (2, 36, 36) and bool(torch.isfinite(maps).all())


def test_gap_cnn_shares_the_trunk_and_ends_in_gap_linear() -> None:
    model = _build("gap-cnn", 64)
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs] == [16, 32, 64, 128]
    assert (model.classifier.in_features, model.classifier.out_features) == (128, 2)
    # Any image size: the head does not depend on it.
    assert _build("gap-cnn", 48)(torch.zeros(1, 3, 48, 48)).shape == (1, 2)


def test_seed_vit_head_and_l2_penalty() -> None:
    model = _build("seed-vit", 32)
    assert (model.dense.in_features, model.dense.out_features) == (768, 1024)
    assert isinstance(model.norm, nn.BatchNorm1d) and isinstance(model.act, nn.LeakyReLU)
    expected = 0.01 * model.dense.weight.pow(2).sum()
    torch.testing.assert_close(model.regularization_loss(), expected)


def test_vit_token_grid_follows_image_size() -> None:
    assert model_info(_build("vit_tiny_patch16", 64)).token_grid == (4, 4)
    assert model_info(_build("vit_small_patch8", 32)).token_grid == (4, 4)
    with pytest.raises(ValueError, match="multiple of the patch size"):
        _build("vit_tiny_patch16", 40)


@pytest.mark.parametrize("name", ["seed-cnn", "resnet18", "timm:resnet10t"])
def test_pretrained_without_weights_names_the_fix(name: str) -> None:
    with pytest.raises(PretrainedWeightsUnavailable, match="weights"):
        _build(name, pretrained=True)


def test_unknown_timm_name_suggests_close_names() -> None:
    with pytest.raises(ValueError, match="similar: .*resnet18"):
        _build("timm:resnet1")


@pytest.mark.parametrize("name", ["seed-cnn", "timm:resnet10t"])
def test_exact_local_weights_load_strictly(name: str, tmp_path) -> None:
    source = _build(name, seed=1)
    path = tmp_path / "weights.safetensors"
    save_file({k: v.contiguous() for k, v in source.state_dict().items()}, str(path))
    loaded = _build(name, seed=2, weights=str(path))
    assert all(torch.equal(v, loaded.state_dict()[k]) for k, v in source.state_dict().items())


def test_timm_checkpoint_for_another_head_and_size_is_adapted(tmp_path) -> None:
    spec = get_registry().architectures.get("vit_tiny_patch16")
    source = build_seeded(spec, 10, 32, spec.params, 1)  # 10 classes, 2x2 tokens
    path = tmp_path / "vit.pth"
    torch.save(source.state_dict(), path)
    loaded = build_seeded(spec, 2, 64, {**spec.params, "pretrained": True, "weights": str(path)}, 2)
    assert torch.equal(loaded.blocks[0].attn.qkv.weight, source.blocks[0].attn.qkv.weight)
    assert loaded.pos_embed.shape[1] == 1 + 16  # resampled to the 4x4 grid
    assert loaded.head.out_features == 2


def test_convstem_vit_stem_reaches_the_plain_vit_token_grid() -> None:
    model = _build("vit-convstem-tiny", 64)
    info = model_info(model)
    assert (info.family, info.patch_size, info.token_grid, info.num_prefix_tokens) == ("vit", 8, (8, 8), 1)
    convs = [m for m in model.patch_embed.proj if isinstance(m, nn.Conv2d)]
    # log2(8) = 3 stride-2 3x3 convolutions doubling up to the width, then a 1x1 projection.
    assert [(c.out_channels, c.stride, c.kernel_size) for c in convs] == [
        (48, (2, 2), (3, 3)), (96, (2, 2), (3, 3)), (192, (2, 2), (3, 3)), (192, (1, 1), (1, 1)),
    ]
    assert len(model.blocks) == 6
    tokens = model.forward_features(torch.zeros(2, 3, 64, 64))
    assert tokens.shape == (2, 1 + 8 * 8, 192)
    assert model_info(_build("vit-convstem-tiny", 64, patch_size=16)).token_grid == (4, 4)


@pytest.mark.parametrize("patch_size", [6, 1])
def test_convstem_vit_rejects_a_patch_that_is_not_a_power_of_two(patch_size: int) -> None:
    with pytest.raises(ValueError, match="patch_size must be a power of two"):
        _build("vit-convstem-tiny", 48, patch_size=patch_size)
