"""Segment interventions: an ROP image drawn again with tortuous stretches straightened.

A tortuous stretch is a maximal run of consecutive diseased vertices of one vessel
(:func:`walkers.tortuous_stretches`): for ``rw-classic`` and ``rw-fundus`` the samples of
one sine move or of several in a row, for ``rw-graded`` a diseased vessel's run beyond the
disease onset. Straightening moves the run's vertices to their plain positions, the path
the vessel takes without the disease: a sine move's axis (one straight piece per sine
period, the walker's plain move of the same chord), or the healthy wiggle. The vertex
before the run is untouched and the run ends on the plain path, so the endpoints stay.
With every stretch straightened an ROP image is drawn exactly as its healthy twin.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch

from ropbench.errors import RopbenchError
from ropbench.specs import StretchInterventions

from .ink import straighten
from .pipeline import (
    Variant, check_params, draw_segments, generate_variant, grow_trees, image_keys, render_tree, segment_table,
)
from .walk_params import WalkParams
from .walkers import VesselTree, tortuous_stretches

__all__ = ["straighten_variant", "draw_straightened", "DrawnImage", "drawn_image"]


class DrawnImage:
    """One generated ROP image with the tree it was drawn from (its attempt resolved)."""

    def __init__(self, variant: Variant, index: int, size: int, seed: int, params: dict[str, Any]) -> None:
        self.variant, self.size, self.params = variant, size, params
        self.batch = generate_variant(variant, 1, size, seed, start=index, **params)
        attempt = np.array([self.batch.metadata[0]["attempt"]])
        twins = params["pairing"] == "twins"
        self.keys = image_keys(variant, np.array([index]), attempt, seed, twins)
        self.walk = WalkParams.from_params(params)
        _, self.tree = grow_trees(variant, self.keys, np.array([index % 2 == 1]), self.walk, params, twins)
        self.stretch = tortuous_stretches(self.tree)

    @property
    def n_stretches(self) -> int:
        return int(self.stretch.max()) + 1 if (self.stretch >= 0).any() else 0

    def fov(self) -> torch.Tensor | None:
        field = self.variant.field_of_view
        return field(self.size, self.params) if field is not None else None

    def stretch_pixels(self) -> torch.Tensor:
        """bool [S, H, W]: each stretch's own vessel pixels (coverage > 0) in the image."""
        seg = segment_table(self.tree, self.size, self.walk.min_half_width)
        owner = torch.from_numpy(self.stretch)[seg["end"]]
        pixels = draw_segments({**seg, "image": owner.clamp(min=0)}, owner >= 0, self.n_stretches, self.size) > 0
        fov = self.fov()
        return pixels & fov if fov is not None else pixels


def drawn_image(variant: Variant, index: int, size: int, seed: int, **params: Any) -> DrawnImage:
    """ROP image ``index`` as ``generate`` draws it, with its tree and stretches."""
    if index < 0 or index % 2 == 0:
        raise RopbenchError(f"image {index} of {variant.name!r} is not an ROP image (ROP images have odd indices)")
    return DrawnImage(variant, index, size, seed, check_params(variant, params))


def draw_straightened(image: DrawnImage, stretch_sets: Sequence[np.ndarray]) -> torch.Tensor:
    """uint8 [len(stretch_sets), 3, H, W]: the image once per set, that set's stretches
    straightened; all copies go through one render and one paint."""
    copies = len(stretch_sets)
    tree: VesselTree = image.tree.take(np.zeros(copies, np.int64))
    move = np.stack([np.isin(image.stretch, np.asarray(chosen)) & (image.stretch >= 0) for chosen in stretch_sets])
    straight = straighten(tree, move.ravel(), image.walk.min_half_width, image.params)
    coverage = render_tree(straight, np.repeat(image.keys, copies), image.size, image.walk, image.variant.paints_kinds)
    return image.variant.paint(coverage, image.params)


def straighten_variant(variant: Variant, index: int, size: int, seed: int, **params: Any) -> StretchInterventions | None:
    """Every visible tortuous stretch of image ``index`` straightened in turn; None if healthy.

    Stretches with no pixel in the picture are left out, so every returned stretch has
    vessel pixels to read a heatmap on.
    """
    if index % 2 == 0:
        check_params(variant, params)
        return None
    image = drawn_image(variant, index, size, seed, **params)
    pixels = image.stretch_pixels()
    visible = torch.nonzero(pixels.flatten(1).any(1)).flatten()
    images = draw_straightened(image, [np.array([s]) for s in visible.tolist()])
    changed = (images != image.batch.images).any(1)
    return StretchInterventions(images=images, changed=changed, stretches=pixels[visible])
