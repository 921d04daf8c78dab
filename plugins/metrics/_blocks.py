"""Running a per-image NumPy computation over blocks of images, on the torch thread budget.

Whole-batch passes over [1000, 224 * 224] planes are memory-bound: every temporary is
hundreds of megabytes. Blocks of a few images keep the temporaries in cache, and NumPy
releases the GIL in its sorts and ufuncs, so blocks run in parallel threads.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Callable, TypeVar

import torch

__all__ = ["BLOCK_IMAGES", "image_blocks", "map_blocks"]

# Images per block: ~3 MB per float32 plane at 224 px.
BLOCK_IMAGES = 16

R = TypeVar("R")


def image_blocks(count: int, block: int = BLOCK_IMAGES) -> list[slice]:
    """Consecutive slices of at most ``block`` images covering ``range(count)``."""
    return [slice(start, min(start + block, count)) for start in range(0, count, block)]


def map_blocks(count: int, function: Callable[[slice], R], block: int = BLOCK_IMAGES) -> list[R]:
    """``[function(rows) for rows in image_blocks(count, block)]``, in threads."""
    blocks = image_blocks(count, block)
    workers = max(1, min(torch.get_num_threads(), len(blocks)))
    if workers == 1:
        return [function(rows) for rows in blocks]
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(function, blocks))
