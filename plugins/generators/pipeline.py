"""From seeds to a :class:`RetinaBatch`: walk, shape, render, mask, measure.

A variant (``rw-classic``, ``rw-fundus``, ``rw-graded``) is the shared walker engine plus
two hooks: ``shape`` reworks the polylines (graded tortuosity) and ``paint`` turns vessel
coverage into RGB pixels. Images are made in fixed-size chunks so memory stays flat, and
every random draw is keyed by (seed, image index, attempt), never by chunk.

``pairing="twins"`` keys the tree by the pair (seed, index // 2, attempt) instead: healthy
image 2k and ROP image 2k+1 are one tree, drawn once with the disease and once with every
diseased vertex at its plain position, so nothing but the disease tells them apart.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable, Mapping

import numpy as np
import torch

from ropbench.errors import RopbenchError
from ropbench.specs import RetinaBatch

from . import rng
from .ink import TWIN_INKS, straighten
from .metadata import image_metadata
from .raster import dilate_disc, render_segments
from .tortuosity import polyline_indices
from .walk_params import WalkParams
from .walkers import ARTERY, VesselTree, simulate_walkers

__all__ = [
    "Variant", "Coverage", "generate_variant", "empty_batch", "chunk_size", "check_params", "render_tree",
    "segment_table", "MARGIN_FRACTION", "MAX_ATTEMPTS", "PAIRINGS", "PAIRING_DEFAULTS",
]

CHUNK_PIXELS = 1 << 21  # images rendered together = this / side^2 (32 at 256 px): flat memory
WALK_GROUP = 64  # trees grown together: the walker loop's Python overhead is per group
MARGIN_FRACTION = 1.0 / 60.0  # the tortuous-region margin: the original's 10 px at 600 px
MAX_ATTEMPTS = 32  # redraws of an ROP image whose tortuous vessels all fell off the image
PAIRINGS = ("none", "twins")
PAIRING_DEFAULTS: dict[str, Any] = {"pairing": "none", "twin_ink": "bowed"}
_TWIN_SALT = ":twins"  # twin trees never share keys with unpaired images


@dataclass
class Coverage:
    """What the renderer saw: coverage maps [N, H, W] and the tree they came from.

    ``artery`` and ``vein`` are drawn apart only for variants that paint them apart
    (``Variant.paints_kinds``); ``vessels`` is their maximum either way.
    """

    tree: VesselTree
    vessels: torch.Tensor
    tortuous: torch.Tensor
    image_keys: np.ndarray
    size: int
    artery: torch.Tensor | None = None
    vein: torch.Tensor | None = None


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
    paints_kinds: bool = False  # paint reads Coverage.artery and Coverage.vein
    severity: Callable[[np.ndarray, np.ndarray, Mapping[str, Any]], np.ndarray] | None = None


def chunk_size(size: int) -> int:
    """Images rendered together: enough to amortise Python overhead, few enough for cache
    (large images render faster in small chunks; their trees still grow in groups)."""
    return int(np.clip(CHUNK_PIXELS // (size * size), 4, 64))


def check_params(variant: Variant, params: Mapping[str, Any]) -> dict[str, Any]:
    """The variant's defaults updated by ``params``; unknown names and values are errors."""
    unknown = sorted(set(params) - set(variant.defaults))
    if unknown:
        raise RopbenchError(
            f"generator {variant.name!r} has no parameter(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(variant.defaults))}"
        )
    merged = {**variant.defaults, **params}
    if merged.get("pairing", "none") not in PAIRINGS:
        raise RopbenchError(
            f"generator {variant.name!r}: pairing must be one of {', '.join(PAIRINGS)}, got {merged['pairing']!r}"
        )
    if merged.get("twin_ink", "free") not in TWIN_INKS:
        raise RopbenchError(
            f"generator {variant.name!r}: twin_ink must be one of {', '.join(TWIN_INKS)}, got {merged['twin_ink']!r}"
        )
    return merged


def generate_variant(
    variant: Variant, n: int, size: int, seed: int, start: int = 0, **params: Any
) -> RetinaBatch:
    """Images ``start .. start+n-1`` of ``variant``; image i is ROP iff i is odd."""
    if n < 0 or start < 0 or size < 8:
        raise RopbenchError(f"need n >= 0, start >= 0 and size >= 8; got n={n}, start={start}, size={size}")
    merged = check_params(variant, params)
    chunks = [
        _make_chunk(variant, np.arange(s, min(s + WALK_GROUP, start + n)), None, size, seed, merged)
        for s in range(start, start + n, WALK_GROUP)
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


def segment_table(tree: VesselTree, size: int, min_half_width: float) -> dict[str, torch.Tensor]:
    """Segment endpoints in pixel units (pixel centres at integers) and their flags.

    ``end`` is the vertex each segment ends at; ``changed`` marks segments the disease
    moved (an endpoint off its plain position), the only ones a twin draws differently.
    """
    k = np.flatnonzero(tree.vertex_vessel[1:] == tree.vertex_vessel[:-1])
    vessel = tree.vertex_vessel[k]
    hw = np.maximum((tree.vertex_half_width[k] + tree.vertex_half_width[k + 1]) / 2, min_half_width)
    if tree.vertex_width_scale is not None:
        hw = hw * tree.vertex_width_scale[k + 1]

    def px(values: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(values * size - 0.5).to(torch.float32)

    return {
        "image": torch.from_numpy(tree.vessel_image[vessel]),
        "x0": px(tree.vertex_x[k]), "y0": px(tree.vertex_y[k]),
        "x1": px(tree.vertex_x[k + 1]), "y1": px(tree.vertex_y[k + 1]),
        "hw": torch.from_numpy(hw * size).to(torch.float32),
        "tortuous": torch.from_numpy(tree.vertex_tortuous[k + 1]),
        "artery": torch.from_numpy(tree.vessel_kind[vessel] == ARTERY),
        "changed": torch.from_numpy(tree.vertex_diseased[k] | tree.vertex_diseased[k + 1]),
        "end": torch.from_numpy(k + 1),
    }


def draw_segments(seg: Mapping[str, torch.Tensor], select: torch.Tensor, n_images: int, size: int) -> torch.Tensor:
    """Coverage float32 [n_images, size, size] of the selected rows of a segment table."""
    return render_segments(
        seg["image"][select], seg["x0"][select], seg["y0"][select], seg["x1"][select],
        seg["y1"][select], seg["hw"][select], n_images, size,
    )


def render_tree(tree: VesselTree, keys: np.ndarray, size: int, walk: WalkParams, kinds: bool = False) -> Coverage:
    """Vessel and tortuous coverage of every image of ``tree``; artery and vein coverage
    apart too when ``kinds`` (their maximum is exactly the vessels drawn in one go)."""
    seg = segment_table(tree, size, walk.min_half_width)
    n = tree.n_images
    tortuous = draw_segments(seg, seg["tortuous"], n, size)
    if not kinds:
        vessels = draw_segments(seg, torch.ones_like(seg["artery"]), n, size)
        return Coverage(tree=tree, vessels=vessels, tortuous=tortuous, image_keys=keys, size=size)
    artery, vein = draw_segments(seg, seg["artery"], n, size), draw_segments(seg, ~seg["artery"], n, size)
    return Coverage(
        tree=tree, vessels=torch.maximum(artery, vein), tortuous=tortuous, image_keys=keys, size=size,
        artery=artery, vein=vein,
    )


def _make_chunk(
    variant: Variant, indices: np.ndarray, attempts: np.ndarray | None, size: int, seed: int,
    params: Mapping[str, Any],
) -> RetinaBatch:
    """Images ``indices``; an ROP image whose tortuous vessels all fell off the picture is
    redrawn with the next attempt key (so it still depends only on its own index). Twins
    are redrawn together: the healthy twin looks at its ROP twin's tortuous vessels."""
    attempts = np.zeros(len(indices), np.int64) if attempts is None else attempts
    batch, redo = _draw(variant, indices, attempts, size, seed, params)
    if not redo.any():
        return batch
    if int(attempts[redo].max()) + 1 >= MAX_ATTEMPTS:
        raise RopbenchError(
            f"generator {variant.name!r} drew no visible tortuous vessel in {MAX_ATTEMPTS} attempts "
            f"for ROP image(s) {indices[redo].tolist()}: check its tortuosity parameters"
        )
    redrawn = _make_chunk(variant, indices[redo], attempts[redo] + 1, size, seed, params)
    rows = torch.from_numpy(np.flatnonzero(redo))
    for name in ("images", "labels", "masks", "tortuous_vessels", "vessels"):
        getattr(batch, name)[rows] = getattr(redrawn, name)  # the batch's tensors are this call's own
    metadata = list(batch.metadata)
    for row, record in zip(rows.tolist(), redrawn.metadata):
        metadata[row] = record
    return replace(batch, metadata=tuple(metadata))


def image_keys(variant: Variant, indices: np.ndarray, attempts: np.ndarray, seed: int, twins: bool) -> np.ndarray:
    """The key every random draw of an image derives from: by image, or by twin pair."""
    seed_key = np.uint64(seed & 0xFFFFFFFFFFFFFFFF)
    if twins:
        return rng.combine(seed_key, rng.text_key(variant.geometry_salt + _TWIN_SALT), indices // 2, attempts)
    return rng.combine(seed_key, rng.text_key(variant.geometry_salt), indices, attempts)


def grow_trees(
    variant: Variant, keys: np.ndarray, rop: np.ndarray, walk: WalkParams, params: Mapping[str, Any], twins: bool
) -> tuple[VesselTree, VesselTree]:
    """(diseased, drawn): the trees with their disease, and the trees as drawn.

    Unpaired, both are the image's own tree. As twins every tree is grown diseased, and
    a healthy image is drawn with its disease removed as ``twin_ink`` says
    (``ink.straighten``: bowed, straight, or straight and wider).
    """
    if not twins:
        tree = simulate_walkers(keys, rop, walk)
        if variant.shape is not None:
            tree = variant.shape(tree, keys, rop, params)
        return tree, tree
    pair_keys, inverse = np.unique(keys, return_inverse=True)  # twins in one chunk: grow once
    everywhere = np.ones(len(pair_keys), bool)
    tree = simulate_walkers(pair_keys, everywhere, walk, twins=True)
    if variant.shape is not None:
        tree = variant.shape(tree, pair_keys, everywhere, params)
    if len(pair_keys) != len(keys) or not np.array_equal(inverse, np.arange(len(keys))):
        tree = tree.take(inverse.ravel())
    return tree, straighten(tree, ~rop[tree.vessel_image[tree.vertex_vessel]], walk.min_half_width, params)


def _twin_pictures(
    variant: Variant, diseased: VesselTree, keys: np.ndarray, indices: np.ndarray, attempts: np.ndarray,
    pictures: tuple[torch.Tensor, torch.Tensor], size: int, walk: WalkParams, params: Mapping[str, Any],
    fov: torch.Tensor | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(images, vessels) of the healthy twin of every ROP row, in ROP-row order.

    A twin drawn in this chunk (same pair, same attempt) is reused; the others are drawn
    from the diseased trees with every vertex at its plain position.
    """
    images, vessels = pictures
    rop_rows = np.flatnonzero(indices % 2 == 1)
    code = indices * MAX_ATTEMPTS + attempts
    order = np.argsort(code)
    wanted = (indices[rop_rows] - 1) * MAX_ATTEMPTS + attempts[rop_rows]
    at = np.minimum(np.searchsorted(code[order], wanted), len(code) - 1)
    partner = np.where(code[order][at] == wanted, order[at], -1)
    twin_images = torch.empty(len(rop_rows), *images.shape[1:], dtype=images.dtype)
    twin_vessels = torch.empty(len(rop_rows), *vessels.shape[1:], dtype=vessels.dtype)
    here = partner >= 0
    twin_images[torch.from_numpy(here)] = images[torch.from_numpy(partner[here])]
    twin_vessels[torch.from_numpy(here)] = vessels[torch.from_numpy(partner[here])]
    if not here.all():
        missing = rop_rows[~here]
        plain = diseased.take(missing)
        plain = straighten(plain, np.ones(len(plain.vertex_x), bool), walk.min_half_width, params)
        coverage = render_tree(plain, keys[missing], size, walk, variant.paints_kinds)
        twin_images[torch.from_numpy(~here)] = variant.paint(coverage, params)
        twin_vessels[torch.from_numpy(~here)] = coverage.vessels * fov if fov is not None else coverage.vessels
    return twin_images, twin_vessels


def _draw(
    variant: Variant, indices: np.ndarray, attempts: np.ndarray, size: int, seed: int,
    params: Mapping[str, Any],
) -> tuple[RetinaBatch, np.ndarray]:
    """The batch, and which of its ROP images (or twin pairs) must be redrawn.

    Trees grow for the whole group at once; pictures are rendered ``chunk_size(size)``
    images at a time into the group's tensors.
    """
    twins = params.get("pairing", "none") == "twins"
    keys = image_keys(variant, indices, attempts, seed, twins)
    rop = indices % 2 == 1
    walk = WalkParams.from_params(params)
    diseased, tree = grow_trees(variant, keys, rop, walk, params, twins)
    fov = variant.field_of_view(size, params) if variant.field_of_view is not None else None
    n = len(indices)
    images = torch.empty(n, 3, size, size, dtype=torch.uint8)
    vessels = torch.empty(n, size, size, dtype=torch.float32)
    tortuous_vessels = torch.empty(n, size, size, dtype=torch.bool)
    seen = np.zeros(n, bool)
    step = chunk_size(size)
    for first in range(0, n, step):
        rows = np.arange(first, min(first + step, n))
        part = tree.take(rows) if len(rows) < n else tree
        coverage = render_tree(part, keys[rows], size, walk, variant.paints_kinds)
        drawn = slice(first, first + len(rows))
        vessels[drawn] = coverage.vessels * fov if fov is not None else coverage.vessels
        tortuous_vessels[drawn] = coverage.tortuous > 0 if fov is None else (coverage.tortuous > 0) & fov
        images[drawn] = variant.paint(coverage, params)
        seen[drawn] = tortuous_vessels[drawn].flatten(1).any(1).numpy()
        if twins and not rop[rows].all():
            # A healthy twin is redrawn with its ROP twin: look at that one's tortuous vessels.
            healthy = rows[~rop[rows]]
            seen[healthy] = _tortuous_seen(diseased.take(healthy), size, walk, fov)
    region = tortuous_vessels
    if twins and rop.any():
        # The region holds every pixel where the ROP twin differs from its healthy twin
        # (image or vessel plane): outside it the twins are identical, pixel for pixel.
        rop_rows = torch.from_numpy(rop)
        twin_images, twin_vessels = _twin_pictures(
            variant, diseased, keys, indices, attempts, (images, vessels), size, walk, params, fov
        )
        region = region.clone()
        region[rop_rows] |= (images[rop_rows] != twin_images).any(1) | (vessels[rop_rows] != twin_vessels)
    masks = dilate_disc(region, size * MARGIN_FRACTION)
    severity = variant.severity(keys, rop, params) if variant.severity else rop.astype(np.float64)
    indices_of = polyline_indices(tree.vertex_x, tree.vertex_y, tree.vertex_vessel, len(tree.vessel_image))
    metadata = image_metadata(tree, indices_of, indices, attempts, severity, variant.reports_kinds)
    if twins:
        metadata = tuple({**m, "pairing": "twins", "twin": int(i) ^ 1} for m, i in zip(metadata, indices))
    batch = RetinaBatch(
        images=images, labels=torch.from_numpy(rop.astype(np.int64)), masks=masks,
        tortuous_vessels=tortuous_vessels, vessels=vessels, metadata=metadata,
    )
    redo = ~seen if twins else rop & ~seen
    return batch, redo


def _tortuous_seen(tree: VesselTree, size: int, walk: WalkParams, fov: torch.Tensor | None) -> np.ndarray:
    """bool [N]: whether any tortuous vessel of each image of ``tree`` shows in the picture."""
    seg = segment_table(tree, size, walk.min_half_width)
    shown = draw_segments(seg, seg["tortuous"], tree.n_images, size) > 0
    if fov is not None:
        shown &= fov
    return shown.flatten(1).any(1).numpy()
