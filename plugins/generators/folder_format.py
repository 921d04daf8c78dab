"""A plain folder of retinas, so users can bring their own real, annotated images.

Layout: ``<root>/labels.csv`` (comma-separated; a UTF-8 BOM, as Excel writes, is fine)
with columns ``filename`` and ``label`` (0 healthy, 1 ROP), and optional ``mask`` (an
image whose non-zero pixels are the tortuous region), ``tortuous_vessels`` and ``vessels``
(grey-level vessel map) columns; paths are relative to ``<root>``, and an empty cell means
"not annotated" (empty mask).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Iterable

import torch

from ropbench import hookimpl
from ropbench.specs import GeneratorSpec, RetinaBatch

from .datasets import (
    FINGERPRINT_MODES, RESIZE_MODES, DatasetError, TableRow, check_range, fingerprint_files, load_rows,
    parse_label, read_grey, read_rgb, read_table, require_choice, require_path, resize_fraction,
    resize_image, shuffled_rows, write_png,
)

__all__ = ["ropbench_register_generators", "load_folder", "folder_fingerprint", "FolderWriter", "LABELS_FILE"]

LOADER = "folder"
LABELS_FILE = "labels.csv"
_COLUMNS = ("filename", "label", "mask", "tortuous_vessels", "vessels")
_PLANES = _COLUMNS[2:]


@dataclass(frozen=True)
class _Table:
    root: Path
    labels_path: Path
    rows: list[TableRow]
    labels: list[int]

    def where(self, index: int) -> str:
        return f"{str(self.labels_path)!r} row {self.rows[index].line}"


def _read(path: str) -> _Table:
    given = require_path(LOADER, path)
    labels_path = given / LABELS_FILE if given.is_dir() else given
    if not labels_path.is_file():
        raise DatasetError(f"folder dataset {str(given)!r} has no {LABELS_FILE}")
    rows = read_table(labels_path, ("filename", "label"))
    labels = [parse_label(row.cells["label"], f"{str(labels_path)!r} row {row.line}", "label") for row in rows]
    return _Table(labels_path.parent, labels_path, rows, labels)


def _plane(root: Path, cell: str | None, shape: tuple[int, int]) -> torch.Tensor | None:
    if not cell:
        return None
    plane = read_grey(root / cell)
    if tuple(plane.shape) != shape:
        raise DatasetError(f"{str(root / cell)!r} is {tuple(plane.shape)}, its image is {shape}")
    return plane


def _load_one(entry: tuple[_Table, int], size: int, resize: str) -> dict[str, Any]:
    table, index = entry
    row, root = table.rows[index].cells, table.root
    try:
        image = read_rgb(root / row["filename"])
        shape = tuple(image.shape[-2:])
        mask = _plane(root, row.get("mask"), shape)
        tortuous = _plane(root, row.get("tortuous_vessels"), shape)
        vessels = _plane(root, row.get("vessels"), shape)
    except DatasetError as error:
        raise DatasetError(f"{table.where(index)}: {error}") from None
    blank = torch.zeros(size, size)
    return {
        "image": resize_image(image, size, resize),
        "label": table.labels[index],
        "mask": (resize_fraction(mask > 0, size) >= 0.5) if mask is not None else blank.bool(),
        "tortuous_vessels": (resize_fraction(tortuous > 0, size) > 0) if tortuous is not None else blank.bool(),
        "vessels": resize_fraction(vessels.float() / 255.0, size) if vessels is not None else blank,
        "metadata": {"source": Path(row["filename"]).as_posix(), "row": index, "annotated": mask is not None},
    }


def load_folder(
    n: int, size: int, seed: int, start: int = 0, path: str = "", resize: str = "bilinear",
    fingerprint: str = "stat",
) -> RetinaBatch:
    """Rows ``start .. start+n-1`` of a folder dataset, in an order shuffled by ``seed``.

    ``resize`` (``bilinear``, antialiased, or ``nearest``, PIL's) resizes the images;
    annotation planes are resized by area share. ``fingerprint`` only chooses how
    :func:`folder_fingerprint` names the files.
    """
    resize = require_choice(LOADER, "resize", resize, RESIZE_MODES)
    require_choice(LOADER, "fingerprint", fingerprint, FINGERPRINT_MODES)
    table = _read(path)
    check_range(table.root, len(table.rows), start, n)
    order = shuffled_rows(len(table.rows), seed)[start : start + n]
    return load_rows([(table, int(i)) for i in order], size, partial(_load_one, resize=resize))


def folder_fingerprint(path: str = "", fingerprint: str = "stat", resize: str = "bilinear") -> str:
    """Names the current contents of the dataset behind ``path``: ``labels.csv`` and every
    image and annotation image it names, by size and mtime (``fingerprint="stat"``) or by
    their bytes (``"content"``). Unreadable tables and bad labels are reported here already.
    ``resize`` chooses no files; it is taken so that a spec's whole ``params`` can be passed."""
    mode = require_choice(LOADER, "fingerprint", fingerprint, FINGERPRINT_MODES)
    require_choice(LOADER, "resize", resize, RESIZE_MODES)
    table = _read(path)
    files = [row.cells[column] for row in table.rows for column in ("filename", *_PLANES) if row.cells.get(column)]
    return fingerprint_files(table.root, [table.labels_path.name, *files], mode)


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


@hookimpl
def ropbench_register_generators() -> list[GeneratorSpec]:
    return [
        GeneratorSpec(
            name="folder", generate=load_folder, version="2", source="dataset",
            params={"path": "", "resize": "bilinear", "fingerprint": "stat"},
            fingerprint=folder_fingerprint, writer=FolderWriter,
            description="A folder of your own retinas: labels.csv (filename, label[, mask, "
            "tortuous_vessels, vessels]) with images and optional annotation images.",
        )
    ]
