"""What the dataset loaders share: row order, range checks, image files, resizing."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from ropbench.errors import RopbenchError
from ropbench.specs import RetinaBatch

from . import rng
from .pipeline import empty_batch

__all__ = [
    "DatasetError",
    "require_path",
    "shuffled_rows",
    "check_range",
    "read_rgb",
    "read_grey",
    "write_png",
    "resize_image",
    "resize_fraction",
    "load_rows",
]


class DatasetError(RopbenchError):
    """A dataset on disk is missing, corrupt or asked for rows it does not have."""


def require_path(loader: str, path: str) -> Path:
    if not path:
        raise DatasetError(f"generator {loader!r} needs its 'path' parameter: the dataset folder")
    where = Path(path).expanduser()
    if not where.exists():
        raise DatasetError(f"generator {loader!r}: path {str(where)!r} does not exist")
    return where


def shuffled_rows(total: int, seed: int) -> np.ndarray:
    """A fixed permutation of 0..total-1 chosen by ``seed`` (hash-keyed: NumPy-version proof)."""
    keys = rng.uniform(rng.combine(np.uint64(seed & 0xFFFFFFFFFFFFFFFF), rng.text_key("rows")), np.arange(total))
    return np.argsort(keys, kind="stable")


def check_range(where: Path, total: int, start: int, n: int) -> None:
    if n < 0 or start < 0 or start + n > total:
        raise DatasetError(
            f"dataset {str(where)!r} has {total} images; asked for rows {start}..{start + n - 1} "
            f"(n={n}, start={start})"
        )


def _open(path: Path, mode: str) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    if not path.is_file():
        raise DatasetError(f"image file {str(path)!r} is missing")
    try:
        with Image.open(path) as image:
            return np.asarray(image.convert(mode))
    except (UnidentifiedImageError, OSError, ValueError) as error:
        raise DatasetError(f"image file {str(path)!r} is corrupt or unreadable: {error}") from error


def read_rgb(path: Path) -> torch.Tensor:
    """uint8 [3, h, w]; an error names the file when missing or corrupt."""
    return torch.from_numpy(_open(path, "RGB").copy()).permute(2, 0, 1).contiguous()


def read_grey(path: Path) -> torch.Tensor:
    """uint8 [h, w]."""
    return torch.from_numpy(_open(path, "L").copy())


def write_png(path: Path, pixels: torch.Tensor) -> None:
    """Write uint8 [3, H, W] or [H, W] as PNG (lossless, so a round trip is exact)."""
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    array = pixels.permute(1, 2, 0).numpy() if pixels.dim() == 3 else pixels.numpy()
    Image.fromarray(np.ascontiguousarray(array)).save(path)


def resize_image(image: torch.Tensor, size: int) -> torch.Tensor:
    """uint8 [3, h, w] -> uint8 [3, size, size] (antialiased bilinear; no-op at size)."""
    if tuple(image.shape[-2:]) == (size, size):
        return image
    scaled = F.interpolate(image[None].float(), size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    return scaled[0].round().clamp(0, 255).to(torch.uint8)


def resize_fraction(plane: torch.Tensor, size: int) -> torch.Tensor:
    """float [h, w] -> float [size, size]: the share of each new pixel that was set."""
    if tuple(plane.shape) == (size, size):
        return plane.float()
    scaled = F.interpolate(plane[None, None].float(), size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    return scaled[0, 0].clamp(0, 1)


def load_rows(
    rows: Sequence[Any], size: int, load_one: Callable[[Any, int], dict[str, Any]]
) -> RetinaBatch:
    """Build a batch from dataset rows; ``load_one(row, size)`` gives one image's fields."""
    items = [load_one(row, size) for row in rows]
    if not items:
        return empty_batch(size)
    return RetinaBatch(
        images=torch.stack([i["image"] for i in items]),
        labels=torch.tensor([i["label"] for i in items], dtype=torch.int64),
        masks=torch.stack([i["mask"] for i in items]),
        tortuous_vessels=torch.stack([i["tortuous_vessels"] for i in items]),
        vessels=torch.stack([i["vessels"] for i in items]).to(torch.float32),
        metadata=tuple(i["metadata"] for i in items),
    )
