"""``sine-lines``: the smallest retina-like generator that honours ropbench's contract.

Four vessels run from the image centre towards the border; in ROP images (odd indices,
as the contract requires) two of them wiggle as a sine wave. Everything is drawn from a
generator seeded by (seed, image index), so image i never depends on its batch.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ropbench.specs import RetinaBatch

__all__ = ["generate_sine_lines"]

SAMPLES = 400  # points along each vessel: denser than any pixel grid up to ~400 px


def _image(index: int, size: int, seed: int, amplitude: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(vessel pixels, tortuous vessel pixels) of one image, bool [size, size]."""
    generator = torch.Generator().manual_seed(seed * 1_000_003 + index)
    angles = torch.rand(4, generator=generator) * 2 * math.pi
    along = torch.linspace(0.05, 0.45, SAMPLES) * size
    tortuous = torch.tensor([index % 2 == 1, index % 2 == 1, False, False])
    offset = torch.where(tortuous[:, None], amplitude * size * torch.sin(along / size * 6 * math.pi), 0.0)
    rows = size / 2 + along * torch.sin(angles[:, None]) + offset * torch.cos(angles[:, None])
    cols = size / 2 + along * torch.cos(angles[:, None]) - offset * torch.sin(angles[:, None])
    inside = (rows >= 0) & (rows < size) & (cols >= 0) & (cols < size)
    flat = rows.long().clamp(0, size - 1) * size + cols.long().clamp(0, size - 1)
    vessels = torch.zeros(size * size, dtype=torch.bool)
    vessels[flat[inside]] = True
    tortuous_pixels = torch.zeros(size * size, dtype=torch.bool)
    tortuous_pixels[flat[inside & tortuous[:, None]]] = True
    return vessels.view(size, size), tortuous_pixels.view(size, size)


def generate_sine_lines(n: int, size: int, seed: int, start: int = 0, amplitude: float = 0.03) -> RetinaBatch:
    """Images ``start .. start+n-1``; image i is ROP iff i is odd."""
    planes = [_image(i, size, seed, amplitude) for i in range(start, start + n)]
    vessels = torch.stack([v for v, _ in planes]) if planes else torch.zeros(0, size, size, dtype=torch.bool)
    tortuous = torch.stack([t for _, t in planes]) if planes else torch.zeros(0, size, size, dtype=torch.bool)
    margin = max(1, round(size / 60))  # the region: tortuous pixels dilated by 1/60 of the side
    region = F.max_pool2d(tortuous[:, None].float(), 2 * margin + 1, stride=1, padding=margin)[:, 0] > 0
    grey = (vessels.to(torch.uint8) * 255)[:, None].expand(-1, 3, -1, -1).contiguous()
    labels = torch.tensor([i % 2 for i in range(start, start + n)], dtype=torch.int64)
    metadata = tuple({"source": f"sine-lines/{seed}/{i}", "tortuous_vessels": 2 * (i % 2)} for i in range(start, start + n))
    return RetinaBatch(images=grey, labels=labels, masks=region, tortuous_vessels=tortuous,
                       vessels=vessels.to(torch.float32), metadata=metadata)
