"""Counter-based random numbers: every draw is a pure function of its keys.

A stateful generator would make image i depend on how many numbers images 0..i-1
consumed, and on which images share a chunk. Hashing (seed, image, walker, step, stream)
instead makes every draw independent of batching, so chunks made in any order or in
parallel give identical bytes, and a dataset of 100 is a prefix of one of 1000.
"""

from __future__ import annotations

import numpy as np

__all__ = ["mix", "combine", "uniform", "uniform_between", "normal", "text_key", "torch_normal"]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_TO_UNIT = 2.0**-53


def mix(values: np.ndarray | int) -> np.ndarray:
    """SplitMix64 finaliser: a bijective avalanche hash of uint64 values."""
    z = np.atleast_1d(np.asarray(values)).astype(np.uint64) + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def combine(key: np.ndarray, *parts: np.ndarray | int) -> np.ndarray:
    """A new key from ``key`` and more counters (broadcasting)."""
    out = np.atleast_1d(np.asarray(key)).astype(np.uint64)
    for part in parts:
        out = mix(out ^ mix(np.asarray(part).astype(np.uint64)))
    return out


def text_key(text: str) -> int:
    """A stable 64-bit key for a string (Python's hash() is salted per process)."""
    value = 0
    for byte in text.encode():
        value = int(combine(np.uint64(value), byte)[0])
    return value


def uniform(key: np.ndarray, *parts: np.ndarray | int) -> np.ndarray:
    """float64 in [0, 1), one per broadcast key."""
    return (combine(key, *parts) >> np.uint64(11)).astype(np.float64) * _TO_UNIT


def uniform_between(low: float, high: float, key: np.ndarray, *parts: np.ndarray | int) -> np.ndarray:
    """float64 in [low, high)."""
    return low + (high - low) * uniform(key, *parts)


def normal(key: np.ndarray, *parts: np.ndarray | int) -> np.ndarray:
    """Standard normal draws by Box-Muller on two hashed uniforms."""
    u1 = uniform(key, *parts, 1)
    u2 = uniform(key, *parts, 2)
    return np.sqrt(-2.0 * np.log1p(-u1)) * np.cos(2.0 * np.pi * u2)


def torch_normal(keys: np.ndarray, shape: tuple[int, ...]) -> "torch.Tensor":
    """float32 [len(keys), *shape] standard normals, one torch stream per key.

    For large per-pixel draws (sensor noise) a seeded torch generator per image is ~4x
    faster than hashing every pixel, and still depends on nothing but the image's key.
    """
    import torch

    out = torch.empty(len(keys), *shape)
    generator = torch.Generator()
    for row, key in enumerate(np.asarray(keys, dtype=np.uint64).tolist()):
        generator.manual_seed(key >> 1)  # manual_seed takes a non-negative int64
        out[row] = torch.randn(*shape, generator=generator)
    return out
