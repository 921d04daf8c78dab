"""The original generator's export format, read the way the study read it, and written.

Layout: ``<root>/images/data.csv`` (tab-separated: ``filename``, ``tortuous``,
``tortuous_points``) with ``filename`` relative to ``<root>`` (``images/tortuous/0.png``).
``tortuous_points`` is a list of ``(x, y)`` in 600-px coordinates, x indexing rows;
NumPy 2 makes the original code write ``np.float64(...)`` reprs, which are accepted.

The study's protocol (DESIGN.md, "The study's exact localization protocol"):

- images are resized with PIL's NEAREST (Keras' loader), ``resize="nearest"``;
- the vessel plane is the red channel in [0, 1] of the NEAREST-resized image, whatever
  ``resize`` says, because the study multiplied both sides of its scores by exactly that;
- the region (``region_shape="square"``): every point, floored to a whole pixel, becomes
  the square [x-10, x+10] x [y-10, y+10] (21 x 21 px, clipped) of a 600 x 600 0/1 image,
  resized with PIL's default filter for an 8-bit image (bicubic; PIL rounds the result to
  0/1). ``region_shape="disc"`` is ropbench's earlier rule: points rasterised at the
  image's own resolution, dilated by a disc of radius side/60, kept where a resized pixel
  is at least half covered; :class:`SeedFormatWriter` round-trips it exactly.
"""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import torch
from scipy import ndimage

from ropbench import hookimpl
from ropbench.specs import GeneratorSpec, RetinaBatch

from .datasets import (
    FINGERPRINT_MODES, RESIZE_MODES, DatasetError, TableRow, check_range, fingerprint_files, load_rows,
    parse_label, read_rgb, read_table, require_choice, require_path, resize_fraction, resize_image,
    shuffled_rows, write_png,
)
from .pipeline import MARGIN_FRACTION
from .raster import dilate_disc

__all__ = ["ropbench_register_generators", 
    "load_seed_format", "seed_format_fingerprint", "SeedFormatWriter", "parse_points", "square_region",
    "points_to_mask", "SEED_FORMAT_SIDE", "STUDY_SQUARE_HALF_SIDE", "REGION_SHAPES",
]

LOADER = "seed-format"
SEED_FORMAT_SIDE = 600.0  # the coordinate frame of tortuous_points
STUDY_SQUARE_HALF_SIDE = 10  # px at 600: the study's margin, 1/60 of the side
REGION_SHAPES = ("square", "disc")
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_NP_FLOAT = re.compile(r"np\.float(?:64|32)\(\s*(" + _NUMBER + r")\s*\)")
_PAIR = re.compile(r"\(\s*(" + _NUMBER + r")\s*,\s*(" + _NUMBER + r")\s*\)")


def parse_points(text: str, where: str = "") -> np.ndarray:
    """float64 [P, 2] (x, y) from ``[(x, y), ...]`` with plain floats or np.float64 reprs;
    every point must lie in the 600-px frame [0, 600) (out-of-frame points used to be
    clipped into corner blobs that were then scored as ground truth)."""
    plain = _NP_FLOAT.sub(r"\1", text.strip())
    if plain in ("", "[]"):
        return np.zeros((0, 2))
    pairs = _PAIR.findall(plain)
    leftover = _PAIR.sub("", plain).replace(",", "").replace("[", "").replace("]", "").strip()
    if not pairs or leftover:
        raise DatasetError(f"{where}: tortuous_points is not a list of (x, y) pairs: {text[:80]!r}")
    points = np.asarray(pairs, dtype=np.float64)
    outside = ~((points >= 0) & (points < SEED_FORMAT_SIDE)).all(axis=1)
    if outside.any():
        first = points[int(np.argmax(outside))]
        raise DatasetError(
            f"{where}: tortuous_points must lie in the {SEED_FORMAT_SIDE:g}-px frame "
            f"[0, {SEED_FORMAT_SIDE:g}); {int(outside.sum())} of {len(points)} do not, the first "
            f"({float(first[0])!r}, {float(first[1])!r})"
        )
    return points


def _find_csv(root: Path) -> Path:
    for candidate in (root, root / "data.csv", root / "images" / "data.csv"):
        if candidate.is_file():
            return candidate
    raise DatasetError(f"seed-format dataset {str(root)!r} has no images/data.csv")


@dataclass(frozen=True)
class _Table:
    csv_path: Path
    rows: list[TableRow]
    labels: list[int]

    def where(self, index: int) -> str:
        return f"{str(self.csv_path)!r} row {self.rows[index].line}"


def _read(path: str) -> _Table:
    csv_path = _find_csv(require_path(LOADER, path))
    rows = read_table(csv_path, ("filename", "tortuous"), delimiter="\t")
    labels = [parse_label(row.cells["tortuous"], f"{str(csv_path)!r} row {row.line}", "tortuous") for row in rows]
    return _Table(csv_path, rows, labels)


def _resolve(csv_path: Path, filename: str) -> tuple[Path, Path]:
    """(dataset root, image path): filenames are relative to the folder holding images/
    (the original's working dir), or else to the CSV's own folder."""
    for base in (csv_path.parent.parent, csv_path.parent):
        if (base / filename).is_file():
            return base, base / filename
    return csv_path.parent.parent, csv_path.parent.parent / filename  # reading it reports the missing file


def points_to_mask(points: np.ndarray, height: int, width: int) -> torch.Tensor:
    """bool [h, w]: the pixels holding a tortuous point (x is the row, in 600-px units).

    Points are already checked to lie in the frame; the clip only keeps a point just below
    600 from rounding onto the pixel past the edge."""
    mask = torch.zeros(height, width, dtype=torch.bool)
    if len(points):
        rows = np.clip(np.rint(points[:, 0] * height / SEED_FORMAT_SIDE), 0, height - 1).astype(np.int64)
        cols = np.clip(np.rint(points[:, 1] * width / SEED_FORMAT_SIDE), 0, width - 1).astype(np.int64)
        mask[torch.from_numpy(rows), torch.from_numpy(cols)] = True
    return mask


def square_region(points: np.ndarray, size: int) -> torch.Tensor:
    """bool [size, size]: the study's ground truth (see the module docstring)."""
    from PIL import Image

    side = int(SEED_FORMAT_SIDE)
    frame = np.zeros((side, side), dtype=np.uint8)
    if len(points):
        cells = np.floor(points).astype(np.int64)
        frame[cells[:, 0], cells[:, 1]] = 1
        # A max filter of width 2h+1 sets every pixel within h rows and h columns of a point.
        frame = ndimage.maximum_filter(frame, size=2 * STUDY_SQUARE_HALF_SIDE + 1, mode="constant", cval=0)
    if size != side:
        frame = np.asarray(Image.fromarray(frame).resize((size, size), Image.Resampling.BICUBIC))
    return torch.from_numpy(frame >= 1)


def _disc_region(points: np.ndarray, height: int, width: int, size: int) -> torch.Tensor:
    region = dilate_disc(points_to_mask(points, height, width)[None], MARGIN_FRACTION * max(height, width))[0]
    return resize_fraction(region, size) >= 0.5


def _load_one(entry: tuple[_Table, int], size: int, resize: str, region_shape: str) -> dict[str, Any]:
    table, index = entry
    row, label = table.rows[index].cells, table.labels[index]
    root, image_path = _resolve(table.csv_path, row["filename"])
    try:
        native = read_rgb(image_path)
    except DatasetError as error:
        raise DatasetError(f"{table.where(index)}: {error}") from None
    _, height, width = native.shape
    points = parse_points(row.get("tortuous_points") or "[]", table.where(index)) if label else np.zeros((0, 2))
    nearest = resize_image(native, size, "nearest")
    if region_shape == "square":
        region = square_region(points, size)
    else:
        region = _disc_region(points, height, width, size)
    return {
        "image": nearest if resize == "nearest" else resize_image(native, size, resize),
        "label": label,
        "mask": region,
        "tortuous_vessels": resize_fraction(points_to_mask(points, height, width), size) > 0,
        "vessels": nearest[0].float() / 255.0,
        "metadata": {"source": Path(os.path.relpath(image_path, root)).as_posix(), "row": index,
                     "tortuous_points": len(points)},
    }


def load_seed_format(
    n: int, size: int, seed: int, start: int = 0, path: str = "", resize: str = "nearest",
    region_shape: str = "square", fingerprint: str = "stat",
) -> RetinaBatch:
    """Rows ``start .. start+n-1`` of a seed-format dataset, in an order shuffled by ``seed``.

    ``resize`` (``nearest``, the study's, or ``bilinear``) resizes the images;
    ``region_shape`` (``square``, the study's, or ``disc``) builds the region;
    ``fingerprint`` only chooses how :func:`seed_format_fingerprint` names the files.
    """
    resize = require_choice(LOADER, "resize", resize, RESIZE_MODES)
    region_shape = require_choice(LOADER, "region_shape", region_shape, REGION_SHAPES)
    require_choice(LOADER, "fingerprint", fingerprint, FINGERPRINT_MODES)
    table = _read(path)
    check_range(table.csv_path.parent.parent, len(table.rows), start, n)
    order = shuffled_rows(len(table.rows), seed)[start : start + n]
    load_one = partial(_load_one, resize=resize, region_shape=region_shape)
    return load_rows([(table, int(i)) for i in order], size, load_one)


def seed_format_fingerprint(
    path: str = "", fingerprint: str = "stat", resize: str = "nearest", region_shape: str = "square",
) -> str:
    """Names the current contents of the dataset behind ``path``: ``images/data.csv`` and
    every image it lists, by size and mtime (``fingerprint="stat"``) or by their bytes
    (``"content"``). Unreadable tables and bad labels are reported here already.
    ``resize`` and ``region_shape`` choose no files; they are taken so that a spec's whole
    ``params`` can be passed."""
    mode = require_choice(LOADER, "fingerprint", fingerprint, FINGERPRINT_MODES)
    require_choice(LOADER, "resize", resize, RESIZE_MODES)
    require_choice(LOADER, "region_shape", region_shape, REGION_SHAPES)
    table = _read(path)
    # The candidates _resolve tries, relative to the folder holding images/.
    folder = table.csv_path.parent.name
    images = ((row.cells["filename"], os.path.join(folder, row.cells["filename"])) for row in table.rows)
    return fingerprint_files(table.csv_path.parent.parent, [os.path.join(folder, table.csv_path.name), *images], mode)


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
        """Append a batch. Points are the tortuous-vessel pixels in 600-px units, so
        reading back with ``region_shape="disc"`` rebuilds exactly the same tortuous region
        (the default, the study's square, is larger)."""
        self.add_encoded(self.encode(batch))

    @staticmethod
    def encode(batch: RetinaBatch) -> list[tuple[int, bytes, str]]:
        """(label, PNG bytes, tortuous_points text) per image: the costly part of ``add``,
        a pure function, so ``ropbench generate`` runs it in its worker processes."""
        from .png import png_bytes

        size = batch.images.shape[-1]
        scale = SEED_FORMAT_SIDE / size
        coordinate = np.array([repr(k * scale) for k in range(size)], dtype=object)  # repr(r * scale), once
        encoded = []
        for image, label, tortuous in zip(batch.images, batch.labels.tolist(), batch.tortuous_vessels):
            png = png_bytes(image)  # Pillow's per-row filter search would take 4x longer
            rows, cols = np.nonzero(tortuous.numpy()) if label else (np.zeros(0, int), np.zeros(0, int))
            points = ", ".join(map("({}, {})".format, coordinate[rows], coordinate[cols]))
            encoded.append((label, png, f"[{points}]"))
        return encoded

    def add_encoded(self, encoded: Iterable[tuple[int, bytes, str]]) -> None:
        """Append images already encoded by :meth:`encode`, in order."""
        for label, png, points in encoded:
            folder = "tortuous" if label else "non_tortuous"
            filename = f"images/{folder}/{self._counts[label]}.png"
            self._counts[label] += 1
            (self.root / "images" / folder).mkdir(exist_ok=True)
            (self.root / filename).write_bytes(png)
            self._csv.writerow([filename, label, points])

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


@hookimpl
def ropbench_register_generators() -> list[GeneratorSpec]:
    return [
        GeneratorSpec(
            name="seed-format", generate=load_seed_format, version="2", source="dataset",
            params={"path": "", "resize": "nearest", "region_shape": "square", "fingerprint": "stat"},
            fingerprint=seed_format_fingerprint, writer=SeedFormatWriter,
            description="Images exported by the original study's generator (images/data.csv, "
            "tortuous_points in 600-px coordinates), read as the study did: NEAREST resizing, the "
            "vessel plane is the red channel, the region is a 21-px square per tortuous point.",
        )
    ]
