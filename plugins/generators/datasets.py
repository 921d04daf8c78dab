"""What the dataset loaders share: tables, labels, row order, image files, resizing and
the fingerprint that puts a dataset's current contents into the cache key.

Errors are :class:`DatasetError` naming the file, the row (its line in the file, which is
also its row number in a spreadsheet: the header is row 1) and what was expected.
"""

from __future__ import annotations

import csv
import hashlib
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from ropbench.errors import RopbenchError, did_you_mean
from ropbench.specs import RetinaBatch

from . import rng
from .pipeline import empty_batch

__all__ = [
    "DatasetError",
    "TableRow",
    "FINGERPRINT_MODES",
    "RESIZE_MODES",
    "require_path",
    "require_choice",
    "read_table",
    "parse_label",
    "shuffled_rows",
    "check_range",
    "read_rgb",
    "read_grey",
    "write_png",
    "resize_image",
    "resize_fraction",
    "fingerprint_files",
    "load_rows",
]

FINGERPRINT_MODES = ("stat", "content")
RESIZE_MODES = ("nearest", "bilinear")


class DatasetError(RopbenchError):
    """A dataset on disk is missing, corrupt or asked for rows it does not have."""


@dataclass(frozen=True)
class TableRow:
    """One data row of a dataset's table: its line in the file and its cells by column."""

    line: int
    cells: Mapping[str, str]


def require_path(loader: str, path: str) -> Path:
    """The dataset's absolute path: a relative ``path`` means the same files from any cwd
    only once resolved, so everything downstream (errors, fingerprint) sees this one."""
    if not path:
        raise DatasetError(f"generator {loader!r} needs its 'path' parameter: the dataset folder")
    where = Path(path).expanduser().resolve()
    if not where.exists():
        raise DatasetError(f"generator {loader!r}: path {str(where)!r} does not exist")
    return where


def require_choice(loader: str, name: str, value: object, choices: Sequence[str]) -> str:
    """``value`` if it is one of ``choices``, else an error naming the parameter."""
    if value not in choices:
        raise DatasetError(f"generator {loader!r}: parameter {name!r} must be one of "
                           f"{', '.join(map(repr, choices))}; got {value!r} ({did_you_mean(str(value), choices)})")
    return str(value)


def read_table(path: Path, required: Sequence[str], delimiter: str = ",") -> list[TableRow]:
    """The rows of a CSV dataset table, checked: readable (a UTF-8 BOM, as Excel writes,
    is allowed), has the ``required`` columns, and every row has exactly the header's cells."""
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # seed-format tortuous_points cells are large
    rows: list[TableRow] = []
    header: list[str] = []
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle, delimiter=delimiter)
            header = [name.strip() for name in next(reader, [])]
            for cells in reader:
                if not cells:
                    continue  # a blank line, as csv.DictReader skips it
                if len(cells) != len(header):
                    raise DatasetError(f"{str(path)!r} row {reader.line_num}: expected {len(header)} cells "
                                       f"({', '.join(header)}), got {len(cells)}: {delimiter.join(cells)[:80]!r}")
                rows.append(TableRow(reader.line_num, dict(zip(header, cells))))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise DatasetError(f"{str(path)!r} is unreadable: {error}") from error
    missing = [c for c in required if c not in header]
    if missing:
        other = "tab" if delimiter == "," else "comma"
        hint = f" (is it {other}-separated? expected {'comma' if delimiter == ',' else 'tab'}-separated)" \
            if len(header) == 1 and (("\t" if delimiter == "," else ",") in header[0]) else ""
        raise DatasetError(f"{str(path)!r} lacks column(s) {missing}; its header has {header}{hint}")
    if not rows:
        raise DatasetError(f"{str(path)!r} has a header but no rows: the dataset is empty")
    return rows


def parse_label(text: str, where: str, column: str) -> int:
    """0 (healthy) or 1 (ROP) from a table cell; anything else, e.g. 2, 0.9 or inf, is an
    error rather than a guess (truncating 0.9 to 0 would relabel an ROP image healthy)."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        value = math.nan
    if value not in (0.0, 1.0):
        raise DatasetError(f"{where}: {column} must be 0 (healthy) or 1 (ROP), got {text!r}")
    return int(value)


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


def resize_image(image: torch.Tensor, size: int, mode: str = "bilinear") -> torch.Tensor:
    """uint8 [3, h, w] -> uint8 [3, size, size]; no-op at ``size``.

    ``bilinear``: antialiased. ``nearest``: PIL's NEAREST, pixel for pixel, because that is
    what Keras' image loading (the study's pipeline) calls; torch's ``nearest-exact`` picks
    a different source pixel where (i + 0.5) * scale lands on an integer (600 -> 244 px).
    """
    if tuple(image.shape[-2:]) == (size, size):
        return image
    if mode == "nearest":
        from PIL import Image

        pil = Image.fromarray(np.ascontiguousarray(image.permute(1, 2, 0).numpy()))
        resized = np.asarray(pil.resize((size, size), Image.Resampling.NEAREST))
        return torch.from_numpy(resized.copy()).permute(2, 0, 1).contiguous()
    scaled = F.interpolate(image[None].float(), size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    return scaled[0].round().clamp(0, 255).to(torch.uint8)


def resize_fraction(plane: torch.Tensor, size: int) -> torch.Tensor:
    """float [h, w] -> float [size, size]: the share of each new pixel that was set."""
    if tuple(plane.shape) == (size, size):
        return plane.float()
    scaled = F.interpolate(plane[None, None].float(), size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    return scaled[0, 0].clamp(0, 1)


def _content_digest(path: str) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _file_line(root: str, names: Sequence[str], mode: str) -> str:
    """The manifest line of the first of ``names`` (relative to ``root``) that exists,
    else of the first, marked missing."""
    for name in names:
        path = os.path.join(root, name)
        try:
            status = os.stat(path)
            detail = _content_digest(path) if mode == "content" else str(status.st_mtime_ns)
        except FileNotFoundError:
            continue
        except OSError as error:
            return f"{name}\tunreadable ({type(error).__name__})\n"
        return f"{Path(name).as_posix()}\t{status.st_size}\t{detail}\n"
    return f"{names[0]}\tmissing\n"


def fingerprint_files(root: Path, files: Iterable[str | Sequence[str]], mode: str) -> str:
    """``mode:sha256`` of a manifest with one line per file: its name relative to ``root``
    and its size and mtime_ns (``stat``) or its size and the sha256 of its bytes
    (``content``). An entry may be a tuple of candidate names, the first that exists
    counting (a loader that looks in two places). The manifest names no absolute path, so
    a dataset moved whole keeps its fingerprint in ``content`` mode.

    A missing file is recorded as missing rather than raised: reading the rows reports it
    with the row that names it, and restoring the file changes the fingerprint.
    """
    manifest = hashlib.sha256()
    base = str(root)
    for entry in files:
        manifest.update(_file_line(base, (entry,) if isinstance(entry, str) else entry, mode).encode())
    return f"{mode}:{manifest.hexdigest()}"


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
