"""The content-addressed cache: every stage output stored under the hash of its inputs.

Keys are sha256 of canonical JSON of everything that determines an output (names,
plugin versions, parameters, seeds, upstream keys). Writes go to a temporary file in the
same folder and are renamed into place, so a killed run never leaves a half-written
entry and a rerun resumes from whatever finished.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

from ropbench.errors import RopbenchError


__all__ = ["canonical_json", "content_key", "Cache", "CorruptCacheEntryError"]


def _canonical(value: Any) -> Any:
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"non-finite float {value!r} cannot be part of a cache key")
        return value
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if value is None or isinstance(value, (str, int, bool)):
        return value
    raise TypeError(f"{type(value).__name__} value {value!r} cannot be part of a cache key")


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, ASCII: one text per value, so one key per value."""
    return json.dumps(_canonical(value), sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def content_key(value: Any) -> str:
    """sha256 hex of the canonical JSON of ``value``."""
    return hashlib.sha256(canonical_json(value).encode("ascii")).hexdigest()


class CorruptCacheEntryError(RopbenchError):
    """A cache entry is missing or cannot be read. Stages that need it recompute it."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"cache entry {path} unreadable ({reason})")


class Cache:
    """Files under ``root/<namespace>/<key[:2]>/<key><suffix>``.

    Namespaces: ``data``, ``models``, ``predictions``, ``heatmaps``, ``scores`` (one
    metric's row), ``results`` (a finished task's record) and ``partial``.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def path(self, namespace: str, key: str, suffix: str) -> Path:
        return self.root / namespace / key[:2] / f"{key}{suffix}"

    def has(self, namespace: str, key: str, suffix: str) -> bool:
        return self.path(namespace, key, suffix).is_file()

    def digest(self, namespace: str, key: str, suffix: str) -> str:
        """sha256 of an entry's bytes (OSError when it is missing)."""
        hasher = hashlib.sha256()
        with self.path(namespace, key, suffix).open("rb") as stream:
            for block in iter(lambda: stream.read(1 << 22), b""):
                hasher.update(block)
        return hasher.hexdigest()

    def remove(self, namespace: str, key: str, suffix: str) -> None:
        self.path(namespace, key, suffix).unlink(missing_ok=True)

    def _write_atomic(self, target: Path, data: bytes) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=target.suffix)
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def save_json(self, namespace: str, key: str, value: Any, suffix: str = ".json") -> Path:
        target = self.path(namespace, key, suffix)
        text = json.dumps(value, sort_keys=True, indent=1, allow_nan=True)
        self._write_atomic(target, text.encode("utf-8"))
        return target

    def load_json(self, namespace: str, key: str, suffix: str = ".json") -> Any:
        target = self.path(namespace, key, suffix)
        try:
            return json.loads(target.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise CorruptCacheEntryError(target, "missing") from None
        except (OSError, ValueError) as error:
            raise CorruptCacheEntryError(target, str(error)) from error

    def save_tensors(self, namespace: str, key: str, value: Any, suffix: str = ".pt") -> Path:
        """Any torch-serialisable structure of tensors, lists, dicts and scalars."""
        import torch  # here: results, leaderboards and reports never need torch

        target = self.path(namespace, key, suffix)
        buffer = io.BytesIO()
        torch.save(value, buffer)
        self._write_atomic(target, buffer.getvalue())
        return target

    def load_tensors(self, namespace: str, key: str, suffix: str = ".pt") -> Any:
        import torch

        target = self.path(namespace, key, suffix)
        if not target.is_file():
            raise CorruptCacheEntryError(target, "missing")
        try:
            return torch.load(target, map_location="cpu", weights_only=True)
        except Exception as error:  # torch raises many types for a damaged file
            raise CorruptCacheEntryError(target, f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}") from error
