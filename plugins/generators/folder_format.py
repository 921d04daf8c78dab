"""A plain folder of retinas, so users can bring their own real, annotated images.

Layout: ``<root>/labels.csv`` (comma-separated) with columns ``filename`` and ``label``
(0 healthy, 1 ROP), and optional ``mask`` (an image whose non-zero pixels are the
tortuous region), ``tortuous_vessels`` and ``vessels`` (grey-level vessel map) columns;
paths are relative to ``<root>``, and an empty cell means "not annotated" (empty mask).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, Iterable

import torch

from ropbench.specs import RetinaBatch

from .datasets import (
    DatasetError, check_range, load_rows, read_grey, read_rgb, require_path, resize_fraction,
    resize_image, shuffled_rows, write_png,
)

__all__ = ["load_folder", "FolderWriter", "LABELS_FILE"]

LABELS_FILE = "labels.csv"
_COLUMNS = ("filename", "label", "mask", "tortuous_vessels", "vessels")


def _read_table(root: Path) -> list[dict[str, str]]:
    labels = root / LABELS_FILE if root.is_dir() else root
    if not labels.is_file():
        raise DatasetError(f"folder dataset {str(root)!r} has no {LABELS_FILE}")
    try:
        with labels.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise DatasetError(f"{str(labels)!r} is unreadable: {error}") from error
    missing = {"filename", "label"} - set(rows[0] if rows else {})
    if not rows or missing:
        raise DatasetError(f"{str(labels)!r} is empty or lacks column(s) {sorted(missing) or ['filename']}")
    return rows


def _plane(root: Path, cell: str | None, shape: tuple[int, int]) -> torch.Tensor | None:
    if not cell:
        return None
    plane = read_grey(root / cell)
    if tuple(plane.shape) != shape:
        raise DatasetError(f"{str(root / cell)!r} is {tuple(plane.shape)}, its image is {shape}")
    return plane


def _load_one(entry: tuple[int, dict[str, str], Path], size: int) -> dict[str, Any]:
    row_number, row, root = entry
    image = read_rgb(root / row["filename"])
    shape = tuple(image.shape[-2:])
    if row["label"].strip() not in ("0", "1"):
        raise DatasetError(f"{str(root / LABELS_FILE)!r} row {row_number + 2}: label must be 0 or 1, got {row['label']!r}")
    mask = _plane(root, row.get("mask"), shape)
    tortuous = _plane(root, row.get("tortuous_vessels"), shape)
    vessels = _plane(root, row.get("vessels"), shape)
    blank = torch.zeros(size, size)
    return {
        "image": resize_image(image, size),
        "label": int(row["label"]),
        "mask": (resize_fraction(mask > 0, size) >= 0.5) if mask is not None else blank.bool(),
        "tortuous_vessels": (resize_fraction(tortuous > 0, size) > 0) if tortuous is not None else blank.bool(),
        "vessels": resize_fraction(vessels.float() / 255.0, size) if vessels is not None else blank,
        "metadata": {"filename": row["filename"], "row": row_number, "annotated": mask is not None},
    }


def load_folder(n: int, size: int, seed: int, start: int = 0, path: str = "") -> RetinaBatch:
    """Rows ``start .. start+n-1`` of a folder dataset, in an order shuffled by ``seed``."""
    root = require_path("folder", path)
    table = _read_table(root)
    root = root if root.is_dir() else root.parent
    check_range(root, len(table), start, n)
    order = shuffled_rows(len(table), seed)[start : start + n]
    return load_rows([(int(i), table[i], root) for i in order], size, _load_one)


class FolderWriter:
    """Streams batches into a folder dataset (images, masks, vessel maps, labels.csv)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._handle = (self.root / LABELS_FILE).open("w", newline="")
        self._csv = csv.writer(self._handle, lineterminator="\n")
        self._csv.writerow(_COLUMNS)
        self._count = 0

    def add(self, batch: RetinaBatch) -> None:
        for i in range(len(batch)):
            stem = f"{self._count:06d}.png"
            self._count += 1
            write_png(self.root / "images" / stem, batch.images[i])
            write_png(self.root / "masks" / stem, batch.masks[i].to(torch.uint8) * 255)
            write_png(self.root / "tortuous_vessels" / stem, batch.tortuous_vessels[i].to(torch.uint8) * 255)
            write_png(self.root / "vessels" / stem, torch.round(batch.vessels[i] * 255).to(torch.uint8))
            self._csv.writerow(
                [f"images/{stem}", int(batch.labels[i]), f"masks/{stem}", f"tortuous_vessels/{stem}", f"vessels/{stem}"]
            )

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> "FolderWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_folder(root: Path, batches: Iterable[RetinaBatch]) -> Path:
    """Write all ``batches`` to ``root`` as a folder dataset; returns the labels CSV path."""
    with FolderWriter(root) as writer:
        for batch in batches:
            writer.add(batch)
    return Path(root) / LABELS_FILE
