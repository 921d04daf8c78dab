"""Gallery pictures drawn with Pillow and inlined as base64 PNG data URIs.

Heatmaps are min-max scaled per image *for display only* (the scores use raw values),
coloured with a viridis-like ramp and blended over a grey copy of the retina; the
ground-truth outline is drawn on top so a reader sees at once whether the hot pixels
sit inside it.
"""

from __future__ import annotations

import base64
import io

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

__all__ = ["png_data_uri", "retina_picture", "mask_picture", "overlay_picture", "colourise", "DISPLAY_SIZE"]

DISPLAY_SIZE = 128  # px: pictures are resized to this side (small images upscaled crisply)

# Viridis anchors (matplotlib's, sampled at 0, .25, .5, .75, 1): perceptually ordered.
_RAMP = np.array([[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]], dtype=np.float32)
_OUTLINE = np.array([255, 64, 160], dtype=np.float32)  # magenta: distinct from every ramp colour
_HEAT_ALPHA = 0.6


def png_data_uri(pixels: np.ndarray) -> str:
    """``data:image/png;base64,...`` of a uint8 [H, W] or [H, W, 3] array, resized to
    :data:`DISPLAY_SIZE`."""
    picture = Image.fromarray(np.ascontiguousarray(pixels))
    if picture.width != DISPLAY_SIZE:
        smaller = picture.width > DISPLAY_SIZE
        picture = picture.resize((DISPLAY_SIZE, DISPLAY_SIZE * picture.height // picture.width),
                                 Image.Resampling.BILINEAR if smaller else Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def colourise(values: np.ndarray) -> np.ndarray:
    """float [H, W] in [0, 1] -> uint8-range float [H, W, 3] on the viridis-like ramp."""
    position = np.clip(values, 0.0, 1.0) * (len(_RAMP) - 1)
    low = np.floor(position).astype(int).clip(0, len(_RAMP) - 2)
    fraction = (position - low)[..., None]
    return _RAMP[low] * (1 - fraction) + _RAMP[low + 1] * fraction


def _display_scaled(heatmap: torch.Tensor) -> np.ndarray:
    values = heatmap.double()
    low, high = values.min(), values.max()
    scaled = (values - low) / (high - low) if high > low else torch.zeros_like(values)
    return scaled.float().numpy()


def _outline(mask: torch.Tensor) -> np.ndarray:
    """bool [H, W]: mask pixels with a neighbour outside the mask."""
    as_float = mask.float()[None, None]
    eroded = -F.max_pool2d(-as_float, kernel_size=3, stride=1, padding=1)
    return (mask & (eroded[0, 0] < 0.5)).numpy()


def retina_picture(image: torch.Tensor) -> str:
    """uint8 [3, H, W] retina as a PNG data URI."""
    return png_data_uri(image.permute(1, 2, 0).numpy())


def mask_picture(image: torch.Tensor, mask: torch.Tensor) -> str:
    """The retina dimmed, the ground-truth mask bright: what the heatmap should find."""
    grey = image.float().mean(0).numpy()
    shown = np.where(mask.numpy(), 255.0, grey * 0.35)
    return png_data_uri(shown.astype(np.uint8))


def overlay_picture(image: torch.Tensor, heatmap: torch.Tensor, mask: torch.Tensor) -> str:
    """Heatmap (display-scaled) blended over the grey retina, mask outline on top."""
    grey = image.float().mean(0).numpy()[..., None].repeat(3, axis=2)
    heat = colourise(_display_scaled(heatmap))
    blended = grey * (1 - _HEAT_ALPHA) + heat * _HEAT_ALPHA
    blended[_outline(mask.bool())] = _OUTLINE
    return png_data_uri(blended.clip(0, 255).astype(np.uint8))
