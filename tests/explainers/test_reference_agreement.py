"""ropbench's CAMs agree with pytorch-grad-cam, and rollout with a plain per-image
Abnar & Zuidema implementation (issue 5's definition of correct)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from timm.models.vision_transformer import VisionTransformer

from ropbench.modelinfo import ModelInfo, attach_model_info
from ropbench.registry import get_registry
from ropbench.specs import ExplainContext

from ropbench_plugins.explainers.rollout import STUDY_ROLLOUT

pytorch_grad_cam = pytest.importorskip("pytorch_grad_cam")
cv2 = pytest.importorskip("cv2")  # the study resized with OpenCV
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget  # noqa: E402

SIZE = 128  # seed-cnn's four 2x2 pools leave an 8x8 target map


def smooth_images(count: int, size: int, seed: int) -> torch.Tensor:
    """Blobby model inputs in [-1, 1]: smoother than white noise, so maps have structure."""
    generator = torch.Generator().manual_seed(seed)
    coarse = torch.rand(count, 3, size // 8, size // 8, generator=generator)
    return F.interpolate(coarse, size=(size, size), mode="bicubic", align_corners=False).clamp(0, 1) * 2 - 1


def pearson(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per-image Pearson correlation of [N, H, W] maps."""
    a = a.flatten(1).double()
    b = b.flatten(1).double()
    a = a - a.mean(1, keepdim=True)
    b = b - b.mean(1, keepdim=True)
    return (a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1))


def seed_cnn_case(size: int, count: int):
    torch.manual_seed(3)
    model = get_registry().architectures.get("seed-cnn").build(2, size).eval()
    images = smooth_images(count, size, seed=5)
    targets = torch.tensor([0, 1, 1, 0])[:count]
    return model, images, targets


@pytest.fixture(scope="module")
def cnn_case():
    return seed_cnn_case(SIZE, 4)


LIBRARY_CLASSES = {
    "gradcam": "GradCAM",
    "gradcam-pp": "GradCAMPlusPlus",
    "xgradcam": "XGradCAM",
    "eigencam": "EigenCAM",
    "scorecam": "ScoreCAM",
    "hirescam": "HiResCAM",
    "layercam": "LayerCAM",
}


@pytest.mark.parametrize("name", list(LIBRARY_CLASSES))
def test_cam_matches_pytorch_grad_cam(cnn_case, name):
    # Score-CAM runs one forward per channel and image: a smaller case keeps it fast.
    model, images, targets = seed_cnn_case(64, 2) if name == "scorecam" else cnn_case
    layer = model.get_submodule("features.act4")
    library_class = getattr(pytorch_grad_cam, LIBRARY_CLASSES[name])
    with library_class(model=model, target_layers=[layer]) as library:
        if name == "scorecam":
            library.batch_size = 64
        expected = library(input_tensor=images, targets=[ClassifierOutputTarget(int(t)) for t in targets])
    spec = get_registry().explainers.get(name)
    ours = spec.explain(model, images, targets, ExplainContext(seed=0), **spec.params)
    expected = torch.from_numpy(expected)
    assert ours.shape == expected.shape
    assert (expected.flatten(1).std(1) > 0).all(), "degenerate reference map: pick another seed"
    correlation = pearson(ours, expected)
    if name == "eigencam":
        correlation = torch.maximum(correlation, pearson(flipped_eigencam(model, images), expected))
    assert (correlation >= 0.99).all(), correlation


def flipped_eigencam(model, images):
    """Eigen-CAM with the other sign of the principal component.

    The component's sign is arbitrary: pytorch-grad-cam keeps whatever LAPACK returns,
    ropbench orients it along the summed activation. Both must be the same projection.
    """
    from ropbench_plugins.explainers.cam_weights import principal_projection
    from ropbench.explaining import upsample_maps
    from ropbench_plugins.explainers.feature_maps import layer_features

    activations = layer_features(model, images, torch.zeros(len(images), dtype=torch.long), with_gradients=False).activations
    return upsample_maps((-principal_projection(activations)).relu(), images.shape[-2:])


def test_eigencam_orientation_follows_the_summed_activation(cnn_case):
    from ropbench_plugins.explainers.cam_weights import principal_projection
    from ropbench_plugins.explainers.feature_maps import layer_features

    model, images, targets = cnn_case
    activations = layer_features(model, images, targets, with_gradients=False).activations
    projection = principal_projection(activations)
    assert (pearson(projection, activations.sum(1)) > 0).all()
    # Flipping the activations' sign cannot flip the orientation convention.
    assert (pearson(principal_projection(-activations), -activations.sum(1)) > 0).all()


def test_pathology_gradcam_with_every_channel_selected_is_gradcam(cnn_case, monkeypatch):
    model, images, targets = cnn_case
    from ropbench_plugins.explainers import cam

    monkeypatch.setattr(cam, "pathology_channels", lambda a, theta, group: torch.ones(a.shape[:2], dtype=torch.bool))
    spec = get_registry().explainers
    full = cam.explain_pathology_gradcam(model, images, targets, ExplainContext(seed=0))
    plain = spec.get("gradcam").explain(model, images, targets, ExplainContext(seed=0))
    torch.testing.assert_close(full, plain)


def test_svd_gradcam_with_full_rank_is_gradcam(cnn_case):
    model, images, targets = cnn_case
    explainers = get_registry().explainers
    full_rank = explainers.get("svd-gradcam").explain(model, images, targets, ExplainContext(seed=0), components=10_000)
    plain = explainers.get("gradcam").explain(model, images, targets, ExplainContext(seed=0))
    torch.testing.assert_close(full_rank, plain, rtol=1e-4, atol=1e-4 * float(plain.abs().max()))
    rank_one = explainers.get("svd-gradcam").explain(model, images, targets, ExplainContext(seed=0), components=1)
    assert not torch.allclose(rank_one, plain, rtol=1e-3, atol=1e-3 * float(plain.abs().max()))


# ---- attention rollout -----------------------------------------------------------------


def tiny_vit(reg_tokens: int = 0) -> VisionTransformer:
    torch.manual_seed(11)
    model = VisionTransformer(
        img_size=(48, 80), patch_size=16, embed_dim=48, depth=4, num_heads=3, num_classes=2, reg_tokens=reg_tokens
    ).eval()
    info = ModelInfo(
        family="vit", target_layer="blocks.3", patch_size=16, token_grid=(3, 5), num_prefix_tokens=1 + reg_tokens,
        attention_layers=tuple(f"blocks.{i}.attn" for i in range(4)),
    )
    return attach_model_info(model, info)


def reference_rollout(model: VisionTransformer, image: torch.Tensor, head_fusion: str) -> torch.Tensor:
    """Abnar & Zuidema for ONE image, attention recomputed by hand block by block."""
    fuse = {"mean": lambda a: a.mean(0), "max": lambda a: a.max(0).values, "min": lambda a: a.min(0).values}[head_fusion]
    with torch.no_grad():
        tokens = model.norm_pre(model._pos_embed(model.patch_embed(image[None])))
        joint = torch.eye(tokens.shape[1])
        for block in model.blocks:
            attn = block.attn
            qkv = attn.qkv(block.norm1(tokens))[0].reshape(tokens.shape[1], 3, attn.num_heads, attn.head_dim)
            q, k = qkv[:, 0].transpose(0, 1), qkv[:, 1].transpose(0, 1)
            weights = ((q @ k.transpose(-2, -1)) * attn.scale).softmax(-1)
            mixed = 0.5 * fuse(weights) + 0.5 * torch.eye(tokens.shape[1])
            mixed = mixed / mixed.sum(-1, keepdim=True)
            joint = mixed @ joint
            tokens = block(tokens)
    prefix = model.num_prefix_tokens
    return joint[0, prefix:].reshape(3, 5)


@pytest.mark.parametrize("head_fusion", ["mean", "max", "min"])
@pytest.mark.parametrize("reg_tokens", [0, 2])
def test_rollout_matches_per_image_reference_on_a_3x5_grid(head_fusion, reg_tokens):
    model = tiny_vit(reg_tokens)
    images = smooth_images(3, 80, seed=2)[:, :, :48, :]
    targets = torch.tensor([0, 1, 0])
    ours = get_registry().explainers.get("attention-rollout").explain(
        model, images, targets, ExplainContext(seed=0), head_fusion=head_fusion, discard_ratio=0.0
    )
    grids = torch.stack([reference_rollout(model, image, head_fusion) for image in images])
    expected = F.interpolate(grids[:, None], size=(48, 80), mode="bilinear", align_corners=False)[:, 0]
    torch.testing.assert_close(ours, expected, rtol=1e-5, atol=1e-6)


def attention_by_hand(model: VisionTransformer, image: torch.Tensor) -> list[torch.Tensor]:
    """Each block's attention probabilities [heads, T, T] for ONE image, recomputed by hand."""
    weights = []
    with torch.no_grad():
        tokens = model.norm_pre(model._pos_embed(model.patch_embed(image[None])))
        for block in model.blocks:
            attn = block.attn
            qkv = attn.qkv(block.norm1(tokens))[0].reshape(tokens.shape[1], 3, attn.num_heads, attn.head_dim)
            q, k = qkv[:, 0].transpose(0, 1), qkv[:, 1].transpose(0, 1)
            weights.append(((q @ k.transpose(-2, -1)) * attn.scale).softmax(-1))
            tokens = block(tokens)
    return weights


def study_rollout(model: VisionTransformer, image: torch.Tensor) -> np.ndarray:
    """The study's rollout for ONE image: vit_keras's ``attention_map`` as the study ran
    it (DESIGN.md), transcribed line by line into NumPy and OpenCV."""
    reshaped = np.stack([w.numpy() for w in attention_by_hand(model, image)]).astype(np.float64)
    reshaped = reshaped.max(axis=1)  # the study's edit: max over heads (its comment says average)
    reshaped = reshaped + np.eye(reshaped.shape[1])
    reshaped = reshaped / reshaped.sum(axis=(1, 2))[:, np.newaxis, np.newaxis]
    v = reshaped[-1]
    for n in range(1, len(reshaped)):
        v = np.matmul(v, reshaped[-1 - n])
    mask = v[0, 1:].reshape(3, 5)
    return cv2.resize((mask / mask.max()).astype(np.float32), (80, 48))  # cv2 takes (width, height)


def test_study_rollout_variant_matches_the_studys_code():
    model = tiny_vit()
    images = smooth_images(3, 80, seed=8)[:, :, :48, :]
    ours = get_registry().explainers.get("attention-rollout-study").explain(
        model, images, torch.tensor([1, 1, 1]), ExplainContext(seed=0), **STUDY_ROLLOUT
    )
    expected = torch.from_numpy(np.stack([study_rollout(model, image) for image in images]))
    torch.testing.assert_close(ours, expected, rtol=1e-5, atol=1e-6)
    # The other rollout differs in more than scale: max fusion is not mean fusion.
    plain = get_registry().explainers.get("attention-rollout").explain(
        model, images, torch.tensor([1, 1, 1]), ExplainContext(seed=0)
    )
    assert (pearson(plain, ours) < 0.999).all()


def test_discard_ratio_changes_rollout_but_keeps_it_finite():
    model = tiny_vit()
    images = smooth_images(2, 80, seed=4)[:, :, :48, :]
    explain = get_registry().explainers.get("attention-rollout").explain
    kept = explain(model, images, torch.tensor([0, 1]), ExplainContext(seed=0), head_fusion="mean", discard_ratio=0.0)
    cut = explain(model, images, torch.tensor([0, 1]), ExplainContext(seed=0), head_fusion="mean", discard_ratio=0.9)
    assert torch.isfinite(cut).all()
    assert not torch.allclose(kept, cut)


def reference_gradient_rollout(model: VisionTransformer, image: torch.Tensor, target: int) -> torch.Tensor:
    """Chefer et al. 2021 for ONE image: every block re-run by hand so the attention
    probabilities are explicit tensors whose gradients autograd can report."""
    tokens = model.norm_pre(model._pos_embed(model.patch_embed(image[None])))
    attentions = []
    for block in model.blocks:
        attn = block.attn
        qkv = attn.qkv(block.norm1(tokens)).reshape(1, tokens.shape[1], 3, attn.num_heads, attn.head_dim)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)
        weights = ((q @ k.transpose(-2, -1)) * attn.scale).softmax(-1)
        weights.retain_grad()
        attentions.append(weights)
        mixed = (weights @ v).transpose(1, 2).reshape(1, tokens.shape[1], -1)
        tokens = tokens + block.ls1(attn.proj(mixed))
        tokens = tokens + block.ls2(block.mlp(block.norm2(tokens)))
    logits = model.forward_head(model.norm(tokens))
    logits[0, target].backward()
    relevance = torch.eye(tokens.shape[1])
    for weights in attentions:
        relevance = relevance + (weights.grad * weights).clamp_min(0).mean(1)[0] @ relevance
    return relevance[0, model.num_prefix_tokens :].detach().reshape(3, 5)


def test_gradient_rollout_matches_per_image_reference():
    model = tiny_vit()
    images = smooth_images(3, 80, seed=6)[:, :, :48, :]
    targets = torch.tensor([1, 0, 1])
    ours = get_registry().explainers.get("grad-rollout").explain(model, images, targets, ExplainContext(seed=0))
    grids = torch.stack([reference_gradient_rollout(model, image, int(t)) for image, t in zip(images, targets)])
    expected = F.interpolate(grids[:, None], size=(48, 80), mode="bilinear", align_corners=False)[:, 0]
    torch.testing.assert_close(ours, expected, rtol=1e-4, atol=1e-6)
