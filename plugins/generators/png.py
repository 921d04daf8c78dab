"""PNG bytes of an RGB image, fast: no per-row filter search, fastest deflate level.

Pillow picks a PNG filter for every row by trying them all, which is most of its time on
a 600-px retina (measured on a 600-px rw-classic image: Pillow 11 ms, Pillow with run-length deflate
5.5 ms, this 2-3 ms) and offers no option to skip it. Any PNG reader decodes this file; its
pixels are the same, only the file is somewhat larger on photographs.
"""

from __future__ import annotations

import struct
import zlib

import torch

__all__ = ["png_bytes"]

_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bytes(image: torch.Tensor, level: int = 1) -> bytes:
    """A PNG file (8-bit RGB, filter type 0 on every row) of uint8 [3, H, W]."""
    if image.dtype != torch.uint8 or image.dim() != 3 or image.shape[0] != 3:
        raise ValueError(f"png_bytes takes uint8 [3, H, W], got {image.dtype} {tuple(image.shape)}")
    _, height, width = image.shape
    rows = torch.zeros(height, 1 + 3 * width, dtype=torch.uint8)  # each row: filter byte 0, then RGB
    rows[:, 1:].view(height, width, 3).copy_(image.permute(1, 2, 0))
    # Run-length matching suits mostly-black retinas: smaller and faster than the default.
    deflate = zlib.compressobj(level, zlib.DEFLATED, 15, 9, zlib.Z_RLE)
    pixels = deflate.compress(rows.numpy().tobytes()) + deflate.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit truecolour, no interlace
    return _SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", pixels) + _chunk(b"IEND", b"")
