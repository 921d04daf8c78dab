"""Seeds and deterministic kernels for training: same seed + same machine -> same bits.

Each random purpose (initial weights, shuffling, augmentation, dropout) gets its own
stream derived from the run's seed, so adding augmentation never changes the shuffle.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator

import torch

from ropbench.seeding import derive_seed

__all__ = ["stream", "deterministic_kernels", "seeded_global_rng"]


def stream(seed: int, purpose: str) -> torch.Generator:
    """A CPU generator for one purpose (``shuffle``, ``augment``, ...) under ``seed``."""
    return torch.Generator().manual_seed(derive_seed(seed, purpose))


@contextmanager
def deterministic_kernels() -> Iterator[None]:
    """Deterministic algorithms (warn where none exists) and no cuDNN autotuning, restored on exit."""
    # cuBLAS needs this set before its first use to be deterministic; harmless on CPU.
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    enabled = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    benchmark = torch.backends.cudnn.benchmark
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(enabled, warn_only=warn_only)
        torch.backends.cudnn.benchmark = benchmark


@contextmanager
def seeded_global_rng(seed: int, purpose: str) -> Iterator[None]:
    """Seed torch's global RNG (used by dropout and weight initialisers) inside the block only.

    The caller's RNG state is restored afterwards, so training one model never shifts the
    random numbers of the next.
    """
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(derive_seed(seed, purpose))
        yield
