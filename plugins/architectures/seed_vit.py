"""The original study's ViT (``seed-vit``): ViT-B/16 backbone + dense 1024 (L2) + BN + leaky ReLU + linear.

The study fine-tuned an ImageNet ViT-B/16; here the backbone starts random unless a local
ViT-B/16 checkpoint is passed as ``weights`` (timm format; position embeddings are
resampled to the image size by timm).
"""

from __future__ import annotations

import torch
from torch import nn

from ropbench.modelinfo import ModelInfo, attach_model_info, model_info
from ropbench_plugins.architectures.timm_models import build_timm_model
from ropbench_plugins.architectures.weights import refuse_hub_download

__all__ = ["SeedViT", "build_seed_vit", "BACKBONE"]

BACKBONE = "vit_base_patch16_224"
# Keras' LeakyReLU default slope and Keras' default L2 factor (regularizers.l2()); the
# study used Keras and does not state other values.
LEAKY_SLOPE = 0.3


class SeedViT(nn.Module):
    """``backbone`` (pooled class-token features) -> ``dense`` -> ``norm`` -> leaky ReLU -> ``classifier``."""

    def __init__(self, backbone: nn.Module, num_classes: int, hidden: int = 1024, dense_l2: float = 0.01) -> None:
        super().__init__()
        self.backbone = backbone
        self.dense = nn.Linear(backbone.num_features, hidden)
        self.norm = nn.BatchNorm1d(hidden)
        self.act = nn.LeakyReLU(LEAKY_SLOPE)
        self.classifier = nn.Linear(hidden, num_classes)
        self.dense_l2 = dense_l2

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.act(self.norm(self.dense(self.backbone(images)))))

    def regularization_loss(self) -> torch.Tensor:
        """Keras-style kernel L2 on the dense layer: ``dense_l2 * sum(W**2)``; the training loop adds it."""
        return self.dense_l2 * self.dense.weight.pow(2).sum()


def build_seed_vit(
    num_classes: int,
    image_size: int,
    *,
    pretrained: bool = False,
    weights: str = "",
    hidden: int = 1024,
    dense_l2: float = 0.01,
) -> nn.Module:
    """``seed-vit`` at ``image_size`` (a multiple of 16); ``weights`` initialise the backbone."""
    if pretrained and not weights:
        refuse_hub_download("seed-vit")
    # num_classes=0: timm returns the pooled class-token features (its head is Identity).
    backbone = build_timm_model(0, image_size, model_name=BACKBONE, weights=weights, architecture="seed-vit")
    inner = model_info(backbone)  # derived from the backbone; re-rooted below
    model = SeedViT(backbone, num_classes, hidden, dense_l2)
    info = ModelInfo(
        family="vit",
        target_layer=f"backbone.{inner.target_layer}",
        patch_size=inner.patch_size,
        token_grid=inner.token_grid,
        num_prefix_tokens=inner.num_prefix_tokens,
        attention_layers=tuple(f"backbone.{name}" for name in inner.attention_layers),
    )
    return attach_model_info(model, info)
