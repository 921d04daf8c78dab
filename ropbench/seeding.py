"""Seeds: every random draw in a run comes from a seed derived from the suite's seeds.

Derivation hashes the base seed with the purpose ("data", "train", ...), so that the
train split and the test split, or training and explaining, never share a stream.
"""

from __future__ import annotations

import hashlib

__all__ = ["derive_seed"]


def derive_seed(base: int, *purpose: str | int) -> int:
    """A 31-bit seed for ``purpose`` under ``base``; stable across runs and machines."""
    text = "/".join([str(base), *map(str, purpose)])
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:4], "big") & 0x7FFFFFFF
