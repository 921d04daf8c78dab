"""The one conversion between stored uint8 images and model inputs.

Every architecture sees inputs scaled the same way, so that a heatmap method and a
faithfulness metric that perturb inputs agree on what "black" and "mean" mean.
"""

from __future__ import annotations

import torch

__all__ = ["to_model_input", "INPUT_MEAN", "INPUT_STD"]

# Fixed, data-independent scaling to roughly [-1, 1]: per-dataset statistics would make
# the model input depend on the dataset's size and break the prefix property.
INPUT_MEAN = 0.5
INPUT_STD = 0.5


def to_model_input(images: torch.Tensor) -> torch.Tensor:
    """uint8 [N, 3, H, W] -> float32 [N, 3, H, W] in [-1, 1]."""
    if images.dtype != torch.uint8:
        raise TypeError(f"expected uint8 images, got {images.dtype}")
    return (images.to(torch.float32) / 255.0 - INPUT_MEAN) / INPUT_STD
