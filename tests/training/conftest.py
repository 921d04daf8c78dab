"""A tiny stand-in for the generators: straight lines (healthy) vs lines with a wavy stretch (ROP).

The wavy stretch's dilated extent is the mask, so guidance and relevance mass can be
tested without the real random-walk generator.
"""

from __future__ import annotations

import math

import pytest
import torch

from ropbench.specs import RetinaBatch


def make_line_retinas(n: int, size: int, seed: int) -> RetinaBatch:
    """``n`` images (half healthy, half ROP), each three horizontal lines; in ROP images
    one line has a sine stretch whose bounding box (plus a margin) is the mask."""
    generator = torch.Generator().manual_seed(seed)
    labels = (torch.arange(n) % 2).long()
    rows = torch.arange(size, dtype=torch.float32).view(1, size, 1)
    cols = torch.arange(size, dtype=torch.float32).view(1, 1, size)
    line_rows = torch.rand(n, 3, generator=generator) * (size * 0.7) + size * 0.15
    start = torch.rand(n, generator=generator) * (size * 0.5)
    width = size * 0.35
    wavy_line = torch.randint(0, 3, (n,), generator=generator)
    in_stretch = (cols >= start.view(-1, 1, 1)) & (cols < start.view(-1, 1, 1) + width)
    amplitude = size / 16
    wave = amplitude * torch.sin(2 * math.pi * (cols - start.view(-1, 1, 1)) / (width / 3))
    images = torch.zeros(n, size, size)
    for line in range(3):  # three lines, not per image: still batched over n
        centre = line_rows[:, line].view(-1, 1, 1).expand(n, 1, size)
        is_wavy = (labels == 1) & (wavy_line == line)
        offset = torch.where(is_wavy.view(-1, 1, 1) & in_stretch, wave, torch.zeros(()))
        images = torch.maximum(images, ((rows - centre - offset).abs() < 1.0).float())
    margin = max(1, size // 32)
    wavy_row = line_rows.gather(1, wavy_line.view(-1, 1)).view(-1, 1, 1)
    masks = (
        (labels.view(-1, 1, 1) == 1)
        & (cols >= start.view(-1, 1, 1) - margin)
        & (cols < start.view(-1, 1, 1) + width + margin)
        & ((rows - wavy_row).abs() <= amplitude + margin)
    )
    images_uint8 = (images * 255).to(torch.uint8)[:, None].expand(n, 3, size, size).contiguous()
    return RetinaBatch(
        images=images_uint8,
        labels=labels,
        masks=masks,
        tortuous_vessels=masks & (images > 0),
        vessels=images,
    )


@pytest.fixture(scope="session")
def line_splits() -> tuple[RetinaBatch, RetinaBatch, RetinaBatch]:
    """train / val / test stand-in retinas at 32 px."""
    return make_line_retinas(96, 32, 0), make_line_retinas(32, 32, 1), make_line_retinas(32, 32, 2)
