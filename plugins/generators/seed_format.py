"""The original generator's export format, read and written.

Layout: ``<root>/images/data.csv`` (tab-separated: ``filename``, ``tortuous``,
``tortuous_points``) with ``filename`` relative to ``<root>`` (``images/tortuous/0.png``).
``tortuous_points`` is a list of ``(x, y)`` in 600-px coordinates, x indexing rows;
NumPy 2 makes the original code write ``np.float64(...)`` reprs, which are accepted.
The tortuous region is rebuilt the original way: points dilated by 1/60 of the native
side (10 px at 600 px), then resized.
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import torch

from ropbench.specs import RetinaBatch

from .datasets import (
    DatasetError, check_range, load_rows, read_rgb, require_path, resize_fraction, resize_image,
    shuffled_rows, write_png,
)
from .pipeline import MARGIN_FRACTION
from .raster import dilate_disc

__all__ = ["load_seed_format", "SeedFormatWriter", "parse_points", "SEED_FORMAT_SIDE"]

SEED_FORMAT_SIDE = 600.0  # the coordinate frame of tortuous_points
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_NP_FLOAT = re.compile(r"np\.float(?:64|32)\(\s*(" + _NUMBER + r")\s*\)")
_PAIR = re.compile(r"\(\s*(" + _NUMBER + r")\s*,\s*(" + _NUMBER + r")\s*\)")


def parse_points(text: str, where: str = "") -> np.ndarray:
    """float64 [P, 2] (x, y) from ``[(x, y), ...]`` with plain floats or np.float64 reprs."""
    plain = _NP_FLOAT.sub(r"\1", text.strip())
    if plain in ("", "[]"):
        return np.zeros((0, 2))
    pairs = _PAIR.findall(plain)
    leftover = _PAIR.sub("", plain).replace(",", "").replace("[", "").replace("]", "").strip()
    if not pairs or leftover:
        raise DatasetError(f"{where}: tortuous_points is not a list of (x, y) pairs: {text[:80]!r}")
    return np.asarray(pairs, dtype=np.float64)


def _find_csv(root: Path) -> Path:
    for candidate in (root, root / "data.csv", root / "images" / "data.csv"):
        if candidate.is_file():
            return candidate
    raise DatasetError(f"seed-format dataset {str(root)!r} has no images/data.csv")


def _read_table(csv_path: Path) -> list[dict[str, str]]:
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # tortuous_points cells are large
    try:
        with csv_path.open(newline="") as handle:
            rows = list(csv.DictReader(handle, delimiter="\t"))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise DatasetError(f"{str(csv_path)!r} is unreadable: {error}") from error
    missing = {"filename", "tortuous"} - set(rows[0] if rows else {})
    if not rows or missing:
        raise DatasetError(f"{str(csv_path)!r} is empty or lacks column(s) {sorted(missing) or ['filename']}")
    return rows


def _resolve(csv_path: Path, filename: str) -> Path:
    # Filenames are relative to the folder holding images/ (the original's working dir).
    for base in (csv_path.parent.parent, csv_path.parent):
        if (base / filename).is_file():
            return base / filename
    return csv_path.parent.parent / filename  # reading it reports the missing file


def points_to_mask(points: np.ndarray, height: int, width: int) -> torch.Tensor:
    """bool [h, w]: the pixels holding a tortuous point (x is the row, in 600-px units)."""
    mask = torch.zeros(height, width, dtype=torch.bool)
    if len(points):
        rows = np.clip(np.rint(points[:, 0] * height / SEED_FORMAT_SIDE), 0, height - 1).astype(np.int64)
        cols = np.clip(np.rint(points[:, 1] * width / SEED_FORMAT_SIDE), 0, width - 1).astype(np.int64)
        mask[torch.from_numpy(rows), torch.from_numpy(cols)] = True
    return mask


def _load_one(entry: tuple[int, dict[str, str], Path], size: int) -> dict[str, Any]:
    row_number, row, csv_path = entry
    where = f"{csv_path}:row {row_number + 2}"
    image_path = _resolve(csv_path, row["filename"])
    native = read_rgb(image_path)
    _, height, width = native.shape
    try:
        label = int(float(row["tortuous"]))
    except ValueError:
        raise DatasetError(f"{where}: tortuous must be 0 or 1, got {row['tortuous']!r}") from None
    points = parse_points(row.get("tortuous_points") or "[]", where) if label else np.zeros((0, 2))
    centre = points_to_mask(points, height, width)
    region = dilate_disc(centre[None], MARGIN_FRACTION * max(height, width))[0]
    return {
        "image": resize_image(native, size),
        "label": label,
        "mask": resize_fraction(region, size) >= 0.5,
        "tortuous_vessels": resize_fraction(centre, size) > 0,
        "vessels": resize_fraction(native.float().mean(0) / 255.0, size),
        "metadata": {"filename": row["filename"], "row": row_number, "tortuous_points": len(points)},
    }


def load_seed_format(n: int, size: int, seed: int, start: int = 0, path: str = "") -> RetinaBatch:
    """Rows ``start .. start+n-1`` of a seed-format dataset, in an order shuffled by ``seed``."""
    root = require_path("seed-format", path)
    csv_path = _find_csv(root)
    table = _read_table(csv_path)
    check_range(csv_path.parent.parent, len(table), start, n)
    order = shuffled_rows(len(table), seed)[start : start + n]
    return load_rows([(int(i), table[i], csv_path) for i in order], size, _load_one)


class SeedFormatWriter:
    """Streams batches into a seed-format folder: PNGs per class and ``images/data.csv``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        (self.root / "images").mkdir(parents=True, exist_ok=True)
        self._handle = (self.root / "images" / "data.csv").open("w", newline="")
        self._csv = csv.writer(self._handle, delimiter="\t", lineterminator="\n")
        self._csv.writerow(["filename", "tortuous", "tortuous_points"])
        self._counts = {0: 0, 1: 0}

    def add(self, batch: RetinaBatch) -> None:
        """Append a batch. Points are the tortuous-vessel pixel centres in 600-px units, so
        reading back rebuilds exactly the same tortuous region."""
        size = batch.images.shape[-1]
        for image, label, tortuous in zip(batch.images, batch.labels.tolist(), batch.tortuous_vessels):
            folder = "tortuous" if label else "non_tortuous"
            filename = f"images/{folder}/{self._counts[label]}.png"
            self._counts[label] += 1
            write_png(self.root / filename, image)
            rows, cols = np.nonzero(tortuous.numpy()) if label else (np.zeros(0), np.zeros(0))
            scale = SEED_FORMAT_SIDE / size
            points = ", ".join(f"({r * scale!r}, {c * scale!r})" for r, c in zip(rows.tolist(), cols.tolist()))
            self._csv.writerow([filename, label, f"[{points}]"])

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> "SeedFormatWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_seed_format(root: Path, batches: Iterable[RetinaBatch]) -> Path:
    """Write all ``batches`` to ``root`` in the seed format; returns the CSV path."""
    with SeedFormatWriter(root) as writer:
        for batch in batches:
            writer.add(batch)
    return Path(root) / "images" / "data.csv"
