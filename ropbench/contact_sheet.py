"""Contact sheets: a grid of retinas with their ground truth drawn on, for a person to look at.

Each tile is the image with the tortuous region's outline in red and the tortuous vessel
pixels tinted yellow, captioned with the label and the image's arc/chord when known.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from ropbench.specs import RetinaBatch

if TYPE_CHECKING:
    from PIL import Image

__all__ = ["contact_sheet", "save_contact_sheet", "overlay_ground_truth"]

_OUTLINE = torch.tensor([255, 40, 40], dtype=torch.float32)
_TINT = torch.tensor([255, 230, 0], dtype=torch.float32)


def _outline(masks: torch.Tensor) -> torch.Tensor:
    """bool [N, H, W]: region pixels with a 4-neighbour outside the region."""
    inside = masks[:, None].float()
    eroded = -F.max_pool2d(-inside, 3, stride=1, padding=1)
    return (inside - eroded)[:, 0] > 0


def overlay_ground_truth(batch: RetinaBatch) -> torch.Tensor:
    """uint8 [N, 3, H, W]: images with the region outlined and tortuous vessels tinted."""
    image = batch.images.float()
    tint = batch.tortuous_vessels[:, None].float() * 0.6
    image = image * (1 - tint) + _TINT[None, :, None, None] * tint
    edge = _outline(batch.masks)[:, None]
    image = torch.where(edge, _OUTLINE[None, :, None, None].expand_as(image), image)
    return image.round().clamp(0, 255).to(torch.uint8)


def contact_sheet(batch: RetinaBatch, columns: int = 8, max_images: int = 32, tile: int = 160) -> "Image.Image":
    """A PIL image: up to ``max_images`` overlaid retinas, ``columns`` per row, ``tile`` px each."""
    from PIL import Image, ImageDraw

    shown = batch.select(slice(0, max_images))
    count = len(shown)
    if count == 0:
        return Image.new("RGB", (tile, tile), "black")
    pixels = overlay_ground_truth(shown)
    pixels = F.interpolate(pixels.float(), size=(tile, tile), mode="nearest").to(torch.uint8)
    columns = min(columns, count)
    rows = -(-count // columns)
    caption, gap = 14, 2
    sheet = Image.new("RGB", (columns * (tile + gap), rows * (tile + caption + gap)), (32, 32, 32))
    draw = ImageDraw.Draw(sheet)
    for i in range(count):
        x = (i % columns) * (tile + gap)
        y = (i // columns) * (tile + caption + gap)
        sheet.paste(Image.fromarray(pixels[i].permute(1, 2, 0).numpy()), (x, y + caption))
        meta = shown.metadata[i] if shown.metadata else {}
        text = "ROP" if int(shown.labels[i]) else "healthy"
        if "arc_chord" in meta:
            text += f"  a/c {meta['arc_chord']:.3f}"
        draw.text((x + 2, y + 1), text, fill=(230, 230, 230))
    return sheet


def save_contact_sheet(batch: RetinaBatch, path: str | Path, **options: int) -> Path:
    """Write :func:`contact_sheet` as PNG at ``path``; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    contact_sheet(batch, **options).save(path)
    return path
