"""Anti-aliased rendering of thick line segments, and disc dilation, batched in torch.

Each segment is drawn as a capsule (all points within ``half_width`` of the segment)
with box-filtered coverage ``clamp(half_width + 0.5 - distance, 0, min(2*half_width, 1))``,
so a vessel 0.4 px wide shows as a faint 0.4-intensity line instead of vanishing or
snapping to one full pixel. Segments are composited by maximum, which does not depend on
drawing order: chunks of any size give identical pixels.
"""

from __future__ import annotations

import math

import torch

__all__ = ["render_segments", "dilate_disc"]

# Pixel evaluations per block: bounds memory whatever the number of segments, and keeps
# each block's temporaries in cache (2^16 measured 20 % faster than 2^22 at 600 px).
_BLOCK_PIXELS = 1 << 16


def _subdivide(image, x0, y0, x1, y1, half_width, max_piece: float):
    """Split segments into pieces at most ``max_piece`` px long (smaller patches)."""
    length = torch.hypot(x1 - x0, y1 - y0)
    pieces = torch.clamp(torch.ceil(length / max_piece), min=1).to(torch.int64)
    if int(pieces.max()) == 1:
        return image, x0, y0, x1, y1, half_width
    owner = torch.repeat_interleave(torch.arange(len(pieces)), pieces)
    first = torch.cumsum(pieces, 0) - pieces
    j = (torch.arange(len(owner)) - first[owner]).to(x0.dtype)
    k = pieces[owner].to(x0.dtype)
    dx, dy = (x1 - x0)[owner], (y1 - y0)[owner]
    ox, oy = x0[owner], y0[owner]
    return (
        image[owner], ox + dx * (j / k), oy + dy * (j / k), ox + dx * ((j + 1) / k),
        oy + dy * ((j + 1) / k), half_width[owner],
    )


def render_segments(
    image: torch.Tensor,
    x0: torch.Tensor,
    y0: torch.Tensor,
    x1: torch.Tensor,
    y1: torch.Tensor,
    half_width: torch.Tensor,
    n_images: int,
    size: int,
    max_piece: float = 4.0,
) -> torch.Tensor:
    """Coverage float32 [n_images, size, size] in [0, 1] of capsule segments.

    Coordinates are in pixels with pixel (row r, column c) centred at (x=c, y=r).
    ``image`` (int64 [S]) says which image each segment belongs to.
    """
    out = torch.zeros(n_images * size * size, dtype=torch.float32)
    if len(image) == 0:
        return out.view(n_images, size, size)
    image, x0, y0, x1, y1, hw = _subdivide(image, x0, y0, x1, y1, half_width, max_piece)
    reach = hw + 1.0
    left = torch.floor(torch.minimum(x0, x1) - reach)
    top = torch.floor(torch.minimum(y0, y1) - reach)
    # Each piece is evaluated on a square patch just big enough for it. A pixel's coverage
    # does not depend on the patch it is evaluated in, so patch sizes, the pieces left
    # out and the order of blocks never change a value (compositing is a maximum).
    patch = (torch.ceil(torch.maximum((x1 - x0).abs(), (y1 - y0).abs()) + 2 * reach) + 2).to(torch.int64)
    seen = (left + patch > 0) & (left < size) & (top + patch > 0) & (top < size)  # off-image pieces draw nothing
    inner = (left >= 0) & (top >= 0) & (left + patch <= size) & (top + patch <= size)
    visible = torch.nonzero(seen).flatten()
    # Group the pieces by patch side and by whether their patch needs clipping.
    group, order = torch.sort((patch * 2 + (~inner).long())[visible], stable=True)
    picked = visible[order]
    pieces = [values[picked] for values in (image, x0, y0, x1, y1, hw, reach, left, top)]
    first = 0
    for key, count in zip(*(t.tolist() for t in torch.unique_consecutive(group, return_counts=True))):
        side, interior = key // 2, key % 2 == 0
        block = max(1, _BLOCK_PIXELS // (side * side))
        for start in range(first, first + count, block):
            stop = min(start + block, first + count)
            _render_block(out, *(values[start:stop] for values in pieces), side, size, interior)
        first += count
    return out.view(n_images, size, size)


def _render_block(out, image, x0, y0, x1, y1, hw, reach, left, top, side: int, size: int, interior: bool) -> None:
    """Composite one block of pieces, each evaluated on a ``side`` x ``side`` patch; an
    ``interior`` block's patches lie wholly inside the image (no clipping needed)."""
    offsets = torch.arange(side, dtype=torch.float32)
    px = (left[:, None] + offsets)[:, None, :]  # [B, 1, P]
    py = (top[:, None] + offsets)[:, :, None]  # [B, P, 1]
    ax, ay = x0[:, None, None], y0[:, None, None]
    ex, ey = (x1 - x0)[:, None, None], (y1 - y0)[:, None, None]
    length2 = torch.clamp(ex * ex + ey * ey, min=1e-12)
    t = torch.clamp(((px - ax) * ex + (py - ay) * ey) / length2, 0.0, 1.0)
    distance = torch.hypot(px - ax - t * ex, py - ay - t * ey)
    h = hw[:, None, None]
    coverage = torch.minimum(torch.clamp(h + 0.5 - distance, min=0.0), torch.clamp(2 * h, max=1.0))
    if interior:
        grid = torch.arange(side)[:, None] * size + torch.arange(side)[None, :]
        base = image * (size * size) + top.long() * size + left.long()
        flat = base[:, None, None] + grid
    else:
        # Off-image pixels are clamped onto the border with zero coverage: a max with 0 is a no-op.
        inside = (px >= 0) & (px < size) & (py >= 0) & (py < size)
        coverage = coverage * inside
        row = py.clamp(0, size - 1).long() * size + image[:, None, None] * (size * size)
        flat = row + px.clamp(0, size - 1).long()
    out.scatter_reduce_(0, flat.reshape(-1), coverage.reshape(-1), reduce="amax")


def dilate_disc(mask: torch.Tensor, radius: float) -> torch.Tensor:
    """Binary dilation of bool [N, H, W] by a disc: pixels within ``radius`` of a set pixel.

    Exact for pixel-centre distances: the disc is cut into rows, each row a horizontal
    run of half-length floor(sqrt(r^2 - dy^2)), grown by shifted ORs, then shifted.
    Only the images with a set pixel, and only the band of rows within ``radius`` of
    one, are computed: the rest of the output is empty.
    """
    if radius < 0:
        raise ValueError(f"radius must be >= 0, got {radius}")
    r = int(math.floor(radius))
    if r == 0 or not bool(mask.any()):
        return mask.clone()
    n, height, width = mask.shape
    marked = mask.flatten(1).any(1)
    rows = torch.nonzero(mask[marked].any(2).any(0)).flatten()
    first, last = max(int(rows[0]) - r, 0), min(int(rows[-1]) + r + 1, height)
    out = torch.zeros(n, height, width, dtype=torch.bool)
    out[marked, first:last] = _dilate_rows(mask[marked, first:last], radius, r)
    return out


def _dilate_rows(mask: torch.Tensor, radius: float, r: int) -> torch.Tensor:
    n, height, width = mask.shape
    halves = {int(math.floor(math.sqrt(max(radius * radius - dy * dy, 0.0)) + 1e-9)) for dy in range(-r, r + 1)}
    # Horizontal runs: run h marks pixels with a set pixel at most h columns away, grown
    # one column at a time by shifted ORs (bool slices: far cheaper than prefix sums).
    runs: dict[int, torch.Tensor] = {0: mask}
    run = mask.clone()
    for half in range(1, max(halves) + 1):
        if half < width:
            run[:, :, half:] |= mask[:, :, :-half]
            run[:, :, :-half] |= mask[:, :, half:]
        if half in halves:
            runs[half] = run.clone()
    out = torch.zeros(n, height, width, dtype=torch.bool)
    for dy in range(-r, r + 1):
        half = int(math.floor(math.sqrt(max(radius * radius - dy * dy, 0.0)) + 1e-9))
        run = runs[half]
        # Output row y takes the run of input row y - dy.
        if abs(dy) >= height:
            continue
        if dy >= 0:
            out[:, dy:] |= run[:, : height - dy]
        else:
            out[:, :dy] |= run[:, -dy:]
    return out
