"""The heatmap gallery: the same fixed test images under every (architecture, explainer),
controls included (a vessel-map heatmap beside a Grad-CAM one is the point).

For each generator the gallery uses the run's first seed and the first
:data:`GALLERY_IMAGES` test images that *every* readable heatmap entry of that
generator and seed explained, so rows are directly comparable. Pictures come from the
run's cache; when an entry is gone the gallery says which, and the rest of the report
still renders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ropbench.cache import Cache, CorruptCacheEntryError
from ropbench.registry import natural_key
from ropbench.report.controls import CONTROL_MARK, Controls
from ropbench.report.pictures import mask_picture, overlay_picture, retina_picture
from ropbench.report.rundata import ExplainCell, RunData

__all__ = ["GALLERY_IMAGES", "GalleryRow", "Gallery", "CacheReader", "build_galleries", "TEST_SPLIT_SUFFIX"]

GALLERY_IMAGES = 4
TEST_SPLIT_SUFFIX = ".test.pt"  # data/<data key>.test.pt: the test split, stored on its own


class CacheReader:
    """Reads a run's cache entries once each; failures become readable messages."""

    def __init__(self, cache_dir: Path) -> None:
        self.cache = Cache(cache_dir)
        self._loaded: dict[tuple[str, str, str], Any] = {}

    def load(self, namespace: str, key: str, suffix: str = ".pt") -> Any:
        """The entry, or raises :class:`LookupError` naming the missing or damaged file."""
        if (namespace, key, suffix) not in self._loaded:
            try:
                self._loaded[(namespace, key, suffix)] = self.cache.load_tensors(namespace, key, suffix=suffix)
            except CorruptCacheEntryError as error:
                raise LookupError(f"cache entry {error.path} is {error.reason}" if error.reason == "missing"
                                  else str(error)) from None
        return self._loaded[(namespace, key, suffix)]

    def test_split(self, data_key: str) -> dict[str, Any]:
        """images, labels, masks, tortuous_vessels, vessels, ... of the test split."""
        return self.load("data", data_key, TEST_SPLIT_SUFFIX)

    def heatmaps(self, explain_key: str) -> dict[str, Any]:
        """``{"heatmaps": float32 [N, H, W], "rows": test-split indices, "excluded": int}``."""
        return self.load("heatmaps", explain_key)

    def probabilities(self, train_key: str) -> torch.Tensor:
        """float32 [N, 2]: the trained model's class probabilities on the test split."""
        return self.load("predictions", train_key)["probabilities"]


@dataclass(frozen=True)
class GalleryRow:
    """One (architecture, explainer): heatmap overlays of the gallery's images."""

    architecture: str
    explainer: str
    control: bool = False
    pictures: tuple[str, ...] = ()
    problem: str = ""  # why the row has no pictures

    @property
    def label(self) -> str:
        return f"{self.architecture} / {self.explainer}" + (CONTROL_MARK if self.control else "")


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


def _target_masks(test: dict[str, Any], target: str, indices: torch.Tensor) -> torch.Tensor:
    masks = test["masks"] if target == "region" else test["tortuous_vessels"]
    return masks[indices].bool()


def _common_indices(entries: list[dict[str, Any]]) -> tuple[int, ...]:
    """The first test indices every entry explained, in the first entry's order."""
    shared = set(entries[0]["rows"].tolist())
    for entry in entries[1:]:
        shared &= set(entry["rows"].tolist())
    return tuple(int(i) for i in entries[0]["rows"].tolist() if i in shared)[:GALLERY_IMAGES]


def _row(cell: ExplainCell, entry: dict[str, Any], test: dict[str, Any], indices: tuple[int, ...],
         masks: torch.Tensor) -> GalleryRow:
    position = {int(i): p for p, i in enumerate(entry["rows"].tolist())}
    heatmaps = entry["heatmaps"][[position[i] for i in indices]].float()
    images = test["images"][torch.tensor(indices, dtype=torch.long)]
    pictures = tuple(overlay_picture(images[k], heatmaps[k], masks[k]) for k in range(len(indices)))
    return GalleryRow(cell.architecture, cell.explainer, cell.control, pictures)


def _gallery(reader: CacheReader, generator: str, cells: list[ExplainCell], target: str) -> Gallery:
    seed = min(c.seed for c in cells)
    cells = [c for c in cells if c.seed == seed]
    gallery = Gallery(generator, seed)
    entries: dict[ExplainCell, dict[str, Any]] = {}
    problems: dict[ExplainCell, str] = {}
    for cell in cells:
        try:
            entries[cell] = reader.heatmaps(cell.heatmap_key)
        except LookupError as error:
            problems[cell] = str(error)
    if not entries:
        gallery.unavailable = f"no heatmap entry could be read ({next(iter(problems.values()))})"
        return gallery
    indices = _common_indices(list(entries.values()))
    if not indices:
        gallery.unavailable = "no test image was explained by every (architecture, explainer)"
        return gallery
    try:
        test = reader.test_split(cells[0].data_key)
    except LookupError as error:
        gallery.unavailable = str(error)
        return gallery
    chosen = torch.tensor(indices, dtype=torch.long)
    masks = _target_masks(test, target, chosen)
    gallery.indices = indices
    gallery.retinas = tuple(retina_picture(test["images"][i]) for i in indices)
    gallery.masks = tuple(mask_picture(test["images"][i], masks[k]) for k, i in enumerate(indices))
    gallery.rows = [_row(cell, entries[cell], test, indices, masks) if cell in entries
                    else GalleryRow(cell.architecture, cell.explainer, cell.control, problem=problems[cell])
                    for cell in cells]
    return gallery


def _row_order(controls: Controls):
    def key(cell: ExplainCell) -> tuple:
        rank = controls.reference_rank(cell.explainer) if cell.control else -1
        return (cell.control, rank, natural_key(cell.architecture), natural_key(cell.explainer))
    return key


def build_galleries(run: RunData, reader: CacheReader | None, why_not: str = "") -> list[Gallery]:
    """One gallery per generator that has explained cells, in natural order: explanations
    first, then the controls floor to ceiling (random, vessel map, pooled, oracle).

    ``reader`` is None when the cache directory is unavailable; every gallery then says
    ``why_not``.
    """
    by_generator: dict[str, list[ExplainCell]] = {}
    for cell in sorted(run.explain_cells, key=_row_order(run.controls)):
        by_generator.setdefault(cell.generator, []).append(cell)
    galleries = []
    for generator in sorted(by_generator, key=natural_key):
        if reader is None:
            galleries.append(Gallery(generator, min(c.seed for c in by_generator[generator]), unavailable=why_not))
        else:
            galleries.append(_gallery(reader, generator, by_generator[generator], run.target))
    return galleries
