"""How a healthy twin draws its ROP twin's tortuous stretches: ``twin_ink``.

A tortuous stretch is longer than the straight path between its endpoints, so a healthy
twin that straightens it (``twin_ink = "free"``) has less vessel ink, and every global
statistic that sums ink (vessel area, mean brightness, intensity histogram) reads the
label. The renderer's coverage integrates to the drawn width across a segment (a box
filter, ``raster.render_segments``), so a segment's ink is its length times its width;
there are two ways to give the healthy stretch its ROP twin's ink:

- ``"widened"``: the straight stretch drawn wider by its ink ratio (``stretch_ink_ratio``).
  Ink matches, but a wider line has more full pixels and fewer partial ones: the
  intensity histogram and the thresholded skeleton tell the twins apart better than the
  ink did (measured: docs/generators.md, *Twins*).
- ``"bowed"`` (default): the stretch laid on a circular arc between the same endpoints,
  as long as the wiggle, every vertex at the same arc length as on the wiggle
  (``bowed_positions``): every segment keeps its length and widths, so the twins draw
  the same segments in another shape. What is left is where the pixels overlap: a bow
  reaches further from the vessel's path than the wiggle, so it bulges to the side with
  fewer other vessels (crossings merge pixels and add skeleton junctions), and the
  picture's border clips the two differently.

Everything is computed in normalised coordinates from the tree, so one seed bows the
same way at every image size. Unpaired images (no twin) are never changed.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping, NamedTuple

import numpy as np

from . import rng
from .walkers import VesselTree, _ranges, tortuous_stretches

__all__ = ["TWIN_INKS", "straighten", "stretch_ink_ratio", "bow_units", "bowed_positions"]

TWIN_INKS = ("bowed", "widened", "free")
_S_BOW_SIDE = 500  # random stream of the bow's side when both sides are as crowded
_CROWD_PAIRS = 1 << 20  # (unit, vertex) pairs tested at once: bounded memory


def straighten(tree: VesselTree, vertices: np.ndarray, min_half_width: float, params: Mapping[str, Any]) -> VesselTree:
    """``tree`` with the selected diseased vertices (bool [V]) drawn as the healthy twin
    draws them: on their plain path (``free``), wider (``widened``) or bowed (``bowed``).
    Without ``pairing = "twins"`` always ``free``: an unpaired image has no twin."""
    rule = params.get("twin_ink", "free") if params.get("pairing", "none") == "twins" else "free"
    if rule == "widened":
        return tree.straightened(vertices, stretch_ink_ratio(tree, min_half_width))
    straight = tree.straightened(vertices)
    if rule == "bowed":
        x, y, bowed = bowed_positions(tree)
        move = vertices & bowed
        return replace(
            straight, vertex_x=np.where(move, x, straight.vertex_x), vertex_y=np.where(move, y, straight.vertex_y)
        )
    return straight


def _stretch_segments(tree: VesselTree, stretch: np.ndarray) -> np.ndarray:
    """Vertices that end a segment of a stretch (the segment from the vertex before)."""
    return np.flatnonzero((stretch[1:] >= 0) & (tree.vertex_vessel[1:] == tree.vertex_vessel[:-1])) + 1


def stretch_ink_ratio(tree: VesselTree, min_half_width: float) -> np.ndarray:
    """float64 [V]: for each diseased vertex, its stretch's diseased ink over its plain ink
    (sum of segment length x drawn half-width along the wiggle, over the same along the
    plain path); 1.0 for vertices the disease left alone.

    Drawn half-widths are the renderer's (mean of the segment's two vertices, at least
    ``min_half_width``), the same for a diseased segment and its plain counterpart.
    """
    stretch = tortuous_stretches(tree)
    ratio = np.ones(len(stretch))
    ends = _stretch_segments(tree, stretch)  # rw-graded: a stretch may start its vessel
    if len(ends) == 0:
        return ratio
    width = np.maximum((tree.vertex_half_width[ends - 1] + tree.vertex_half_width[ends]) / 2, min_half_width)
    diseased = np.hypot(tree.vertex_x[ends] - tree.vertex_x[ends - 1], tree.vertex_y[ends] - tree.vertex_y[ends - 1])
    plain = np.hypot(
        tree.vertex_plain_x[ends] - tree.vertex_plain_x[ends - 1],
        tree.vertex_plain_y[ends] - tree.vertex_plain_y[ends - 1],
    )
    count = int(stretch.max()) + 1
    diseased_ink = np.bincount(stretch[ends], weights=diseased * width, minlength=count)
    plain_ink = np.bincount(stretch[ends], weights=plain * width, minlength=count)
    per_stretch = diseased_ink / np.maximum(plain_ink, np.finfo(np.float64).tiny)
    ratio[stretch >= 0] = per_stretch[stretch[stretch >= 0]]
    return ratio


def _branch_points(tree: VesselTree) -> np.ndarray:
    """bool [V]: vertices a child vessel starts from (a child's first vertex is its
    parent's position at birth, bit for bit, so equal coordinates find it)."""
    first = np.r_[True, tree.vertex_vessel[1:] != tree.vertex_vessel[:-1]]
    children = first & (tree.vessel_generation[tree.vertex_vessel] > 0)

    def place(rows: np.ndarray) -> np.ndarray:
        image = tree.vessel_image[tree.vertex_vessel[rows]]
        return rng.combine(image, tree.vertex_x[rows].view(np.uint64), tree.vertex_y[rows].view(np.uint64))

    everyone = np.arange(len(first))
    return ~first & np.isin(place(everyone), place(everyone[children]))


def bow_units(tree: VesselTree) -> np.ndarray:
    """int64 [V]: the bow unit of each vertex, -1 outside one. A unit is a tortuous stretch
    cut after every vertex a child vessel starts from: bowing a unit moves no child's
    starting point, and short units make small bows."""
    stretch = tortuous_stretches(tree)
    cut = np.r_[False, _branch_points(tree)[:-1]]
    starts = (stretch >= 0) & ((np.r_[-1, stretch[:-1]] != stretch) | cut)
    return np.where(stretch >= 0, np.cumsum(starts) - 1, -1)


def _bow_angle(ratio: np.ndarray) -> np.ndarray:
    """Central angle theta in [0, 2 pi) of the circular arc ``ratio`` times as long as its
    chord: theta / (2 sin(theta / 2)) = ratio, increasing in theta (bisection)."""
    low, high = np.zeros_like(ratio), np.full_like(ratio, 2 * np.pi)
    for _ in range(60):
        mid = (low + high) / 2
        longer = mid > ratio * 2 * np.sin(mid / 2)
        high, low = np.where(longer, mid, high), np.where(longer, low, mid)
    return (low + high) / 2


def bowed_positions(tree: VesselTree) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, y, bowed): float [V], float [V], bool [V]. Each closed bow unit (``bow_units``)
    laid on the circular arc between its endpoints that is as long as the unit, each
    vertex at its own arc length from the unit's start; other vertices unchanged.

    A unit is closed when the vertex before it (its anchor) is on its vessel and its last
    vertex lies on its plain position (sine moves; rw-graded's open-ended runs are not
    bowed). The bow bulges to the side whose circular segment (between chord and arc)
    holds fewer vertices of other vessels of its image; on a tie a hash of the vessel and
    the unit's place on it picks the side.
    """
    unit = bow_units(tree)
    x, y = tree.vertex_x.copy(), tree.vertex_y.copy()
    bowed = np.zeros(len(unit), bool)
    inside = np.flatnonzero(unit >= 0)
    if len(inside) == 0:
        return x, y, bowed
    count = int(unit.max()) + 1
    u = unit[inside]
    first, last = np.full(count, len(unit)), np.zeros(count, np.int64)
    np.minimum.at(first, u, inside)
    np.maximum.at(last, u, inside)
    anchor = np.maximum(first - 1, 0)
    vessel = tree.vertex_vessel
    closed = (first > 0) & (vessel[anchor] == vessel[first])
    closed &= (tree.vertex_plain_x[last] == x[last]) & (tree.vertex_plain_y[last] == y[last])

    # Arc length from the anchor to each vertex of its unit, and each unit's length.
    step = np.hypot(x[inside] - x[inside - 1], y[inside] - y[inside - 1])
    arc_to = np.cumsum(step)
    along = arc_to - (arc_to - step)[np.searchsorted(inside, first)][u]
    length = along[np.searchsorted(inside, last)]
    chord = np.hypot(x[last] - x[anchor], y[last] - y[anchor])
    closed &= (chord > 0) & (length > 0)
    chord_safe, length_safe = np.where(chord > 0, chord, 1.0), np.where(length > 0, length, 1.0)
    arc = _Arcs(
        ax=x[anchor], ay=y[anchor], ux=(x[last] - x[anchor]) / chord_safe, uy=(y[last] - y[anchor]) / chord_safe,
        chord=chord, length=length, theta=_bow_angle(np.maximum(length / chord_safe, 1.0)),
    )
    place = first - np.searchsorted(vessel, vessel[first])  # the unit's first vertex on its vessel
    coin = np.where(rng.uniform(tree.vessel_key[vessel[first]], place, _S_BOW_SIDE) < 0.5, -1.0, 1.0)
    crowd_left, crowd_right = _crowding(tree, np.flatnonzero(closed), vessel[first], arc)
    side = np.sign(crowd_right - crowd_left)  # +1: fewer on the left
    side = np.where(side == 0, coin, side)

    # At angle psi from the apex (psi = +-theta/2 at the ends), radius R = length / theta,
    # a point lies R (sin psi + sin theta/2) along the chord from the anchor and
    # R (cos psi - cos theta/2) across it; a flat arc (theta ~ 0) is the chord itself.
    half = arc.theta[u] / 2
    psi = half * (2 * along / length_safe[u] - 1)
    flat = arc.theta[u] <= 1e-9
    radius = length[u] / np.where(flat, 1.0, arc.theta[u])
    forward = np.where(flat, along * chord[u] / length_safe[u], radius * (np.sin(psi) + np.sin(half)))
    across = np.where(flat, 0.0, radius * (np.cos(psi) - np.cos(half))) * side[u]
    take = closed[u] & (inside != last[u])  # the end stays bit for bit: the vessel goes on from it
    x[inside] = np.where(take, arc.ax[u] + arc.ux[u] * forward - arc.uy[u] * across, x[inside])
    y[inside] = np.where(take, arc.ay[u] + arc.uy[u] * forward + arc.ux[u] * across, y[inside])
    bowed[inside] = closed[u]
    return x, y, bowed


class _Arcs(NamedTuple):
    """Per unit: anchor (ax, ay), unit chord direction (ux, uy), chord, length, angle."""

    ax: np.ndarray
    ay: np.ndarray
    ux: np.ndarray
    uy: np.ndarray
    chord: np.ndarray
    length: np.ndarray
    theta: np.ndarray


def _crowding(
    tree: VesselTree, units: np.ndarray, unit_vessel: np.ndarray, arc: _Arcs
) -> tuple[np.ndarray, np.ndarray]:
    """(left, right) int [U]: vertices of other vessels of each unit's image inside the
    circular segment its bow would sweep bulging left / right of its chord (``units``:
    the units to count; the others get 0)."""
    left, right = np.zeros(len(arc.chord), np.int64), np.zeros(len(arc.chord), np.int64)
    if len(units) == 0:
        return left, right
    vertex_image = tree.vessel_image[tree.vertex_vessel]
    order = np.argsort(vertex_image, kind="stable")
    bounds = np.searchsorted(vertex_image[order], np.arange(tree.n_images + 1))
    unit_image = tree.vessel_image[unit_vessel[units]]
    per_unit = bounds[unit_image + 1] - bounds[unit_image]
    # Blocks of units whose (unit, vertex-of-its-image) pairs fit in _CROWD_PAIRS.
    block_of = np.cumsum(per_unit) // _CROWD_PAIRS
    for block in np.unique(block_of):
        chosen = units[block_of == block]
        images = tree.vessel_image[unit_vessel[chosen]]
        pairs = bounds[images + 1] - bounds[images]
        owner = np.repeat(chosen, pairs)
        vertex = order[_ranges(np.arange(len(order)), bounds[images], bounds[images + 1])]
        other = tree.vertex_vessel[vertex] != unit_vessel[owner]
        # Coordinates of each vertex in its unit's frame: along the chord from its midpoint, and across (left +).
        dx, dy = tree.vertex_x[vertex] - arc.ax[owner], tree.vertex_y[vertex] - arc.ay[owner]
        along = dx * arc.ux[owner] + dy * arc.uy[owner] - arc.chord[owner] / 2
        across = -dx * arc.uy[owner] + dy * arc.ux[owner]
        half = arc.theta[owner] / 2
        radius = arc.length[owner] / np.where(half > 0, 2 * half, 1.0)
        # The circle's centre sits R cos(theta/2) behind the chord, on the side away from the bulge.
        behind = radius * np.cos(half)
        in_left = other & (across > 0) & (along**2 + (across + behind) ** 2 < radius**2)
        in_right = other & (across < 0) & (along**2 + (across - behind) ** 2 < radius**2)
        left += np.bincount(owner, weights=in_left, minlength=len(left)).astype(np.int64)
        right += np.bincount(owner, weights=in_right, minlength=len(right)).astype(np.int64)
    return left, right
