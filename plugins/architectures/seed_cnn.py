"""The original study's CNN (``seed-cnn``) and its global-average-pooling twin (``gap-cnn``).

Both share one trunk: four 3x3 convolutions (16, 32, 64, 128 filters, same padding),
each followed by leaky ReLU. ``seed-cnn`` max-pools 2x2 after every convolution, then
flattens, applies dropout 0.5 and a linear layer to the classes, exactly as the study.
``gap-cnn`` max-pools after the first three convolutions only: global average pooling
replaces the fourth pool, so that the logits are *exactly* ``classifier(mean over
space of act4)`` and CAM (Zhou et al. 2016) is the classifier-weighted ``act4`` map,
at twice the resolution a fourth pool would leave.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from ropbench.imaging import INPUT_MEAN, INPUT_STD
from ropbench.modelinfo import ModelInfo, attach_model_info
from ropbench_plugins.architectures.weights import load_local_weights, refuse_hub_download

__all__ = ["SeedCNN", "GapCNN", "build_seed_cnn", "build_gap_cnn", "TRUNK_WIDTHS"]

TRUNK_WIDTHS: tuple[int, ...] = (16, 32, 64, 128)
# Keras' LeakyReLU default slope; the study used Keras.
LEAKY_SLOPE = 0.3


def _trunk(pool_after_last: bool) -> nn.Sequential:
    """conv1, act1, pool1, ..., conv4, act4[, pool4] with stable dotted names."""
    layers: "OrderedDict[str, nn.Module]" = OrderedDict()
    in_channels = 3
    for index, width in enumerate(TRUNK_WIDTHS, start=1):
        layers[f"conv{index}"] = nn.Conv2d(in_channels, width, kernel_size=3, padding=1)
        layers[f"act{index}"] = nn.LeakyReLU(LEAKY_SLOPE)
        if index < len(TRUNK_WIDTHS) or pool_after_last:
            layers[f"pool{index}"] = nn.MaxPool2d(2)
        in_channels = width
    return nn.Sequential(layers)


class SeedCNN(nn.Module):
    """The original 4-conv network: trunk, flatten, dropout 0.5, linear.

    ``unit_input`` maps ropbench's inputs (about [-1, 1]) back to [0, 1], the study's
    Keras ``rescale=1/255``: the black background is then 0, as the zero padding.
    """

    def __init__(self, num_classes: int, image_size: int, dropout: float = 0.5, unit_input: bool = False) -> None:
        super().__init__()
        self.unit_input = unit_input
        if image_size < 16:
            raise ValueError(f"seed-cnn needs images of at least 16 px (four 2x2 pools), got {image_size}")
        self.features = _trunk(pool_after_last=True)
        side = image_size
        for _ in TRUNK_WIDTHS:
            side //= 2  # MaxPool2d(2) floors odd sides
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(TRUNK_WIDTHS[-1] * side * side, num_classes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if self.unit_input:
            images = images * INPUT_STD + INPUT_MEAN
        return self.classifier(self.dropout(torch.flatten(self.features(images), 1)))


class GapCNN(nn.Module):
    """The same trunk ending in global average pooling and one linear layer (CAM applies)."""

    def __init__(self, num_classes: int) -> None:
        super().__init__()
        self.features = _trunk(pool_after_last=False)
        self.classifier = nn.Linear(TRUNK_WIDTHS[-1], num_classes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(images).mean(dim=(2, 3)))


def build_seed_cnn(
    num_classes: int, image_size: int, *, pretrained: bool = False, weights: str = "", dropout: float = 0.5,
    unit_input: bool = False,
) -> nn.Module:
    """``seed-cnn``: GradCAM targets ``features.act4``, the last conv map before its pool.

    :param unit_input: feed the convolutions [0, 1] images, as the study's Keras model saw them.
    """
    if pretrained and not weights:
        refuse_hub_download("seed-cnn")
    model = SeedCNN(num_classes, image_size, dropout, unit_input)
    if weights:
        load_local_weights(model, weights)
    return attach_model_info(model, ModelInfo(family="cnn", target_layer="features.act4"))


def build_gap_cnn(num_classes: int, image_size: int, *, pretrained: bool = False, weights: str = "") -> nn.Module:
    """``gap-cnn``: CAM = ``classifier.weight @ features.act4``."""
    if pretrained and not weights:
        refuse_hub_download("gap-cnn")
    model = GapCNN(num_classes)
    if weights:
        load_local_weights(model, weights)
    return attach_model_info(
        model, ModelInfo(family="cnn", target_layer="features.act4", classifier="classifier")
    )
