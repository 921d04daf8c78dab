"""The heatmap gallery: the same fixed test images under every (architecture, explainer).

For each generator the gallery uses the run's first seed and the first
:data:`GALLERY_IMAGES` test images that *every* explain cell of that generator and seed
explained, so rows are directly comparable. Pictures come from the run's cache; when an
entry is gone the gallery says which, and the rest of the report still renders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ropbench.cache import Cache, CorruptCacheEntryError
from ropbench.registry import natural_key
from ropbench.report.pictures import mask_picture, overlay_picture, retina_picture
from ropbench.report.rundata import ExplainCell, RunData

__all__ = ["GALLERY_IMAGES", "GalleryRow", "Gallery", "CacheReader", "build_galleries"]

GALLERY_IMAGES = 4


class CacheReader:
    """Reads a run's cache entries once each; failures become readable messages."""

    def __init__(self, cache_dir: Path) -> None:
        self.cache = Cache(cache_dir)
        self._loaded: dict[tuple[str, str], Any] = {}

    def load(self, stage: str, key: str) -> Any:
        """The entry, or raises :class:`LookupError` naming the missing or damaged file."""
        if (stage, key) not in self._loaded:
            path = self.cache.path(stage, key, ".pt")
            if not path.is_file():
                raise LookupError(f"cache entry {path} is missing")
            try:
                self._loaded[(stage, key)] = self.cache.load_tensors(stage, key)
            except CorruptCacheEntryError as error:
                raise LookupError(str(error)) from None
        return self._loaded[(stage, key)]

    def test_split(self, data_key: str) -> dict[str, Any]:
        return self.load("data", data_key)["test"]


@dataclass(frozen=True)
class GalleryRow:
    """One (architecture, explainer): heatmap overlays of the gallery's images."""

    architecture: str
    explainer: str
    pictures: tuple[str, ...] = ()
    problem: str = ""  # why the row has no pictures


@dataclass
class Gallery:
    """One generator's gallery (first seed)."""

    generator: str
    seed: int
    indices: tuple[int, ...] = ()
    retinas: tuple[str, ...] = ()
    masks: tuple[str, ...] = ()
    rows: list[GalleryRow] = field(default_factory=list)
    unavailable: str = ""  # why the whole gallery could not be drawn

    @property
    def picture_count(self) -> int:
        return len(self.retinas) + len(self.masks) + sum(len(r.pictures) for r in self.rows)


def _common_indices(cells: list[ExplainCell]) -> tuple[int, ...]:
    shared = set(cells[0].explained_indices)
    for cell in cells[1:]:
        shared &= set(cell.explained_indices)
    return tuple(i for i in cells[0].explained_indices if i in shared)[:GALLERY_IMAGES]


def _target_masks(test: dict[str, Any], target: str, indices: torch.Tensor) -> torch.Tensor:
    masks = test["masks"] if target == "region" else test["tortuous_vessels"]
    return masks[indices].bool()


def _row(reader: CacheReader, cell: ExplainCell, test: dict[str, Any], indices: tuple[int, ...]) -> GalleryRow:
    try:
        entry = reader.load("heatmaps", cell.heatmap_key)
    except LookupError as error:
        return GalleryRow(cell.architecture, cell.explainer, problem=str(error))
    position = {int(i): p for p, i in enumerate(entry["indices"].tolist())}
    chosen = torch.tensor(indices, dtype=torch.long)
    heatmaps = entry["heatmaps"][[position[i] for i in indices]].float()
    masks = _target_masks(test, cell.target, chosen)
    images = test["images"][chosen]
    pictures = tuple(overlay_picture(images[k], heatmaps[k], masks[k]) for k in range(len(indices)))
    return GalleryRow(cell.architecture, cell.explainer, pictures)


def _gallery(reader: CacheReader | None, generator: str, cells: list[ExplainCell], why_not: str) -> Gallery:
    seed = min(c.seed for c in cells)
    cells = [c for c in cells if c.seed == seed]
    gallery = Gallery(generator, seed)
    if reader is None:
        gallery.unavailable = why_not
        return gallery
    indices = _common_indices(cells)
    if not indices:
        gallery.unavailable = "no test image was explained by every (architecture, explainer)"
        return gallery
    try:
        test = reader.test_split(cells[0].data_key)
    except LookupError as error:
        gallery.unavailable = str(error)
        return gallery
    chosen = torch.tensor(indices, dtype=torch.long)
    masks = _target_masks(test, cells[0].target, chosen)
    gallery.indices = indices
    gallery.retinas = tuple(retina_picture(test["images"][i]) for i in indices)
    gallery.masks = tuple(mask_picture(test["images"][i], masks[k]) for k, i in enumerate(indices))
    gallery.rows = [_row(reader, cell, test, indices) for cell in cells]
    return gallery


def build_galleries(run: RunData, reader: CacheReader | None) -> list[Gallery]:
    """One gallery per generator that has explained cells, in natural order.

    ``reader`` is None when the cache directory is unavailable; every gallery then says so.
    """
    why_not = f"the run's cache directory {run.cache_dir} is not available" if run.cache_dir \
        else "the run's manifest names no cache directory"
    by_generator: dict[str, list[ExplainCell]] = {}
    for cell in run.explain_cells:
        by_generator.setdefault(cell.generator, []).append(cell)
    return [_gallery(reader, g, by_generator[g], why_not) for g in sorted(by_generator, key=natural_key)]
