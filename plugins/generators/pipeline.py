"""From seeds to a :class:`RetinaBatch`: walk, shape, render, mask, measure.

A variant (``rw-classic``, ``rw-fundus``, ``rw-graded``) is the shared walker engine plus
two hooks: ``shape`` reworks the polylines (graded tortuosity) and ``paint`` turns vessel
coverage into RGB pixels. Images are made in fixed-size chunks so memory stays flat, and
every random draw is keyed by (seed, image index, attempt), never by chunk.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np
import torch

from ropbench.errors import RopbenchError
from ropbench.specs import RetinaBatch

from . import rng
from .metadata import image_metadata
from .raster import dilate_disc, render_segments
from .tortuosity import polyline_indices
from .walk_params import WalkParams
from .walkers import ARTERY, VesselTree, simulate_walkers

__all__ = ["Variant", "Coverage", "generate_variant", "empty_batch", "chunk_size", "MARGIN_FRACTION", "MAX_ATTEMPTS"]

CHUNK_PIXELS = 1 << 21  # images per chunk = this / side^2 (32 at 256 px): flat memory
MARGIN_FRACTION = 1.0 / 60.0  # the tortuous-region margin: the original's 10 px at 600 px
MAX_ATTEMPTS = 32  # redraws of an ROP image whose tortuous vessels all fell off the image


@dataclass
class Coverage:
    """What the renderer saw: coverage maps [N, H, W] and the tree they came from."""

    tree: VesselTree
    artery: torch.Tensor
    vein: torch.Tensor
    tortuous: torch.Tensor
    image_keys: np.ndarray
    size: int

    @property
    def vessels(self) -> torch.Tensor:
        return torch.maximum(self.artery, self.vein)


@dataclass(frozen=True)
class Variant:
    """One registered generator built on the walker engine."""

    name: str
    version: str
    description: str
    defaults: Mapping[str, Any]
    paint: Callable[[Coverage, Mapping[str, Any]], torch.Tensor]  # -> uint8 [N, 3, H, W]
    shape: Callable[[VesselTree, np.ndarray, np.ndarray, Mapping[str, Any]], VesselTree] | None = None
    field_of_view: Callable[[int, Mapping[str, Any]], torch.Tensor] | None = None  # bool [H, W]
    geometry_salt: str = "rw"  # variants sharing a salt draw the same trees
    reports_kinds: bool = False
    severity: Callable[[np.ndarray, np.ndarray, Mapping[str, Any]], np.ndarray] | None = None


def chunk_size(size: int) -> int:
    """Images rendered together: enough to amortise Python overhead, few enough for cache."""
    return int(np.clip(CHUNK_PIXELS // (size * size), 4, 64))


def _check_params(variant: Variant, params: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(params) - set(variant.defaults))
    if unknown:
        raise RopbenchError(
            f"generator {variant.name!r} has no parameter(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(variant.defaults))}"
        )
    return {**variant.defaults, **params}


def generate_variant(
    variant: Variant, n: int, size: int, seed: int, start: int = 0, **params: Any
) -> RetinaBatch:
    """Images ``start .. start+n-1`` of ``variant``; image i is ROP iff i is odd."""
    if n < 0 or start < 0 or size < 8:
        raise RopbenchError(f"need n >= 0, start >= 0 and size >= 8; got n={n}, start={start}, size={size}")
    merged = _check_params(variant, params)
    step = chunk_size(size)
    chunks = [
        _make_chunk(variant, np.arange(s, min(s + step, start + n)), None, size, seed, merged)
        for s in range(start, start + n, step)
    ]
    if not chunks:
        return empty_batch(size)
    return RetinaBatch.concat(chunks) if len(chunks) > 1 else chunks[0]


def empty_batch(size: int) -> RetinaBatch:
    """A batch of no images of side ``size``."""
    return RetinaBatch(
        images=torch.zeros(0, 3, size, size, dtype=torch.uint8),
        labels=torch.zeros(0, dtype=torch.int64),
        masks=torch.zeros(0, size, size, dtype=torch.bool),
        tortuous_vessels=torch.zeros(0, size, size, dtype=torch.bool),
        vessels=torch.zeros(0, size, size, dtype=torch.float32),
        metadata=(),
    )


def _segments(tree: VesselTree, size: int, min_half_width: float):
    """Segment endpoints in pixel units (pixel centres at integers) and their flags."""
    k = np.flatnonzero(tree.vertex_vessel[1:] == tree.vertex_vessel[:-1])
    vessel = tree.vertex_vessel[k]
    hw = np.maximum((tree.vertex_half_width[k] + tree.vertex_half_width[k + 1]) / 2, min_half_width)

    def px(values: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(values * size - 0.5).to(torch.float32)

    return {
        "image": torch.from_numpy(tree.vessel_image[vessel]),
        "x0": px(tree.vertex_x[k]), "y0": px(tree.vertex_y[k]),
        "x1": px(tree.vertex_x[k + 1]), "y1": px(tree.vertex_y[k + 1]),
        "hw": torch.from_numpy(hw * size).to(torch.float32),
        "tortuous": torch.from_numpy(tree.vertex_tortuous[k + 1]),
        "artery": torch.from_numpy(tree.vessel_kind[vessel] == ARTERY),
    }


def _render(tree: VesselTree, keys: np.ndarray, size: int, walk: WalkParams) -> Coverage:
    seg = _segments(tree, size, walk.min_half_width)
    n = tree.n_images

    def draw(select: torch.Tensor) -> torch.Tensor:
        return render_segments(
            seg["image"][select], seg["x0"][select], seg["y0"][select], seg["x1"][select],
            seg["y1"][select], seg["hw"][select], n, size,
        )

    return Coverage(
        tree=tree, artery=draw(seg["artery"]), vein=draw(~seg["artery"]),
        tortuous=draw(seg["tortuous"]), image_keys=keys, size=size,
    )


def _make_chunk(
    variant: Variant, indices: np.ndarray, attempts: np.ndarray | None, size: int, seed: int,
    params: Mapping[str, Any],
) -> RetinaBatch:
    """Images ``indices``; an ROP image whose tortuous vessels all fell off the picture is
    redrawn with the next attempt key (so it still depends only on its own index)."""
    attempts = np.zeros(len(indices), np.int64) if attempts is None else attempts
    batch = _draw(variant, indices, attempts, size, seed, params)
    redo = ((batch.labels == 1) & ~batch.masks.flatten(1).any(1)).numpy()
    if not redo.any():
        return batch
    if int(attempts[redo].max()) + 1 >= MAX_ATTEMPTS:
        raise RopbenchError(
            f"generator {variant.name!r} drew no visible tortuous vessel in {MAX_ATTEMPTS} attempts "
            f"for ROP image(s) {indices[redo].tolist()}: check its tortuosity parameters"
        )
    redrawn = _make_chunk(variant, indices[redo], attempts[redo] + 1, size, seed, params)
    order = np.argsort(np.r_[np.flatnonzero(~redo), np.flatnonzero(redo)], kind="stable")
    merged = RetinaBatch.concat([batch.select(torch.from_numpy(~redo)), redrawn])
    return merged.select(torch.from_numpy(order))


def _draw(
    variant: Variant, indices: np.ndarray, attempts: np.ndarray, size: int, seed: int,
    params: Mapping[str, Any],
) -> RetinaBatch:
    keys = rng.combine(np.uint64(seed & 0xFFFFFFFFFFFFFFFF), rng.text_key(variant.geometry_salt), indices, attempts)
    rop = indices % 2 == 1
    walk = WalkParams.from_params(params)
    tree = simulate_walkers(keys, rop, walk)
    if variant.shape is not None:
        tree = variant.shape(tree, keys, rop, params)
    coverage = _render(tree, keys, size, walk)
    vessels = coverage.vessels
    tortuous_vessels = coverage.tortuous > 0
    if variant.field_of_view is not None:
        fov = variant.field_of_view(size, params)
        vessels = vessels * fov
        tortuous_vessels &= fov
    masks = dilate_disc(tortuous_vessels, size * MARGIN_FRACTION)
    images = variant.paint(coverage, params)
    severity = variant.severity(keys, rop, params) if variant.severity else rop.astype(np.float64)
    indices_of = polyline_indices(tree.vertex_x, tree.vertex_y, tree.vertex_vessel, len(tree.vessel_image))
    metadata = image_metadata(tree, indices_of, indices, attempts, severity, variant.reports_kinds)
    return RetinaBatch(
        images=images, labels=torch.from_numpy(rop.astype(np.int64)), masks=masks,
        tortuous_vessels=tortuous_vessels, vessels=vessels.to(torch.float32), metadata=metadata,
    )
