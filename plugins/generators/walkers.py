"""The vectorised random-walker engine: every walker of every image moves at once.

Walkers start near a source (the optic disc) and move along a weighted sum of a vector
field (the source plus a stronger sink mirrored through the image centre), a pull toward
the source-sink midpoint and their own momentum, turned by a small random angle. They
branch (children half as wide, shorter-lived, less fertile), taper, and die of old age or
on leaving the world. A tortuous walker's move is, with some probability, a few sine
periods perpendicular to its heading, damped by the walker's age. The result is a
:class:`VesselTree` of polylines in normalised image coordinates.

Every vertex also records its *plain* position: where it would lie without the disease
(a sine sample's point on its move's axis). Drawing a tree at its plain positions gives
its healthy twin; moving one tortuous stretch there is an intervention.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from . import rng
from .walk_params import WalkParams

__all__ = ["VesselTree", "simulate_walkers", "tortuous_stretches", "ARTERY", "VEIN"]

ARTERY, VEIN = 0, 1

# Random streams: one counter per kind of draw so that draws never collide.
_S_TORTUOUS, _S_TURN, _S_LENGTH, _S_WAVE, _S_BRANCH, _S_BRANCH_TURN, _S_BRANCH_SIGN = range(7)
_S_SOURCE, _S_ROOT_ORDER, _S_ROOT_ROTATION = 100, 101, 102


@dataclass
class VesselTree:
    """Polylines of all vessels of a chunk of images (normalised coordinates).

    Vertices are grouped by vessel and ordered along it. ``vertex_tortuous[k]`` says the
    segment ending at vertex k belongs to a tortuous move. ``vertex_diseased[k]`` says the
    disease moved vertex k away from ``vertex_plain_x/y``, where it would lie in a healthy
    vessel (ordinary vertices: plain == actual, bit for bit).
    """

    n_images: int
    source: np.ndarray  # float64 [N, 2] (x, y) of the optic disc
    vertex_x: np.ndarray  # float64 [V]
    vertex_y: np.ndarray  # float64 [V]
    vertex_half_width: np.ndarray  # float64 [V]
    vertex_vessel: np.ndarray  # int64 [V]
    vertex_tortuous: np.ndarray  # bool [V]
    vessel_image: np.ndarray  # int64 [W]
    vessel_kind: np.ndarray  # int64 [W], ARTERY or VEIN
    vessel_tortuous: np.ndarray  # bool [W]: the walker may make tortuous moves
    vessel_generation: np.ndarray  # int64 [W]: 0 for roots
    vessel_key: np.ndarray  # uint64 [W]: the walker's random key (for per-vessel draws)
    vertex_plain_x: np.ndarray  # float64 [V]: the vertex without the disease
    vertex_plain_y: np.ndarray  # float64 [V]
    vertex_diseased: np.ndarray  # bool [V]
    # float64 [V]: the segment ending at vertex k is drawn this many times as wide as its
    # vertices say (after the minimum width); None: 1 everywhere (``twin_ink="widened"``).
    vertex_width_scale: np.ndarray | None = None

    def straightened(self, vertices: np.ndarray, width_scale: np.ndarray | None = None) -> "VesselTree":
        """The tree with the selected vertices (bool [V]) moved to their plain positions
        and no longer tortuous: every selected vertex is the healthy twin's. The segments
        ending at selected diseased vertices are drawn ``width_scale`` (float [V]) times as
        wide when given, as they were otherwise."""
        scale = self.vertex_width_scale
        if width_scale is not None:
            moved = vertices & self.vertex_diseased
            scale = np.where(moved, width_scale, 1.0 if scale is None else scale)
        return replace(
            self,
            vertex_x=np.where(vertices, self.vertex_plain_x, self.vertex_x),
            vertex_y=np.where(vertices, self.vertex_plain_y, self.vertex_y),
            vertex_tortuous=self.vertex_tortuous & ~vertices,
            vertex_diseased=self.vertex_diseased & ~vertices,
            vertex_width_scale=scale,
        )

    def take(self, images: np.ndarray) -> "VesselTree":
        """A tree of the images ``images`` (int [M], repeats allowed), in that order."""
        images = np.asarray(images, dtype=np.int64)
        vessel_order = np.argsort(self.vessel_image, kind="stable")
        vessel_bounds = np.searchsorted(self.vessel_image[vessel_order], np.arange(self.n_images + 1))
        vessels = _ranges(vessel_order, vessel_bounds[images], vessel_bounds[images + 1])
        new_image = np.repeat(np.arange(len(images)), vessel_bounds[images + 1] - vessel_bounds[images])
        vertex_bounds = np.searchsorted(self.vertex_vessel, np.arange(len(self.vessel_image) + 1))
        counts = vertex_bounds[vessels + 1] - vertex_bounds[vessels]
        vertices = _ranges(np.arange(len(self.vertex_x)), vertex_bounds[vessels], vertex_bounds[vessels + 1])
        per_vertex = lambda a: a[vertices]  # noqa: E731
        per_vessel = lambda a: a[vessels]  # noqa: E731
        return VesselTree(
            n_images=len(images), source=self.source[images],
            vertex_x=per_vertex(self.vertex_x), vertex_y=per_vertex(self.vertex_y),
            vertex_half_width=per_vertex(self.vertex_half_width),
            vertex_vessel=np.repeat(np.arange(len(vessels)), counts),
            vertex_tortuous=per_vertex(self.vertex_tortuous),
            vessel_image=new_image, vessel_kind=per_vessel(self.vessel_kind),
            vessel_tortuous=per_vessel(self.vessel_tortuous),
            vessel_generation=per_vessel(self.vessel_generation), vessel_key=per_vessel(self.vessel_key),
            vertex_plain_x=per_vertex(self.vertex_plain_x), vertex_plain_y=per_vertex(self.vertex_plain_y),
            vertex_diseased=per_vertex(self.vertex_diseased),
            vertex_width_scale=None if self.vertex_width_scale is None else per_vertex(self.vertex_width_scale),
        )


def _ranges(values: np.ndarray, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """``values[starts[0]:stops[0]]``, ``values[starts[1]:stops[1]]``, ... concatenated."""
    counts = stops - starts
    offsets = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    return values[np.repeat(starts, counts) + offsets]


def tortuous_stretches(tree: VesselTree) -> np.ndarray:
    """int64 [V]: the tortuous stretch of each vertex, -1 for vertices the disease left alone.

    A stretch is a maximal run of consecutive diseased vertices of one vessel (for the sine
    moves: the samples of one or more sine moves in a row), numbered from 0 in vertex
    order; its segments are those ending at its vertices. The vertex before a stretch is
    not moved, and a stretch ends on the plain path again (a sine period ends on its axis),
    so moving a stretch's vertices to their plain positions keeps its endpoints.
    """
    diseased = tree.vertex_diseased
    continues = np.r_[False, diseased[:-1] & (tree.vertex_vessel[1:] == tree.vertex_vessel[:-1])]
    starts = diseased & ~continues
    return np.where(diseased, np.cumsum(starts) - 1, -1)


class _Vertices:
    """Append-only vertex records, sorted into polylines at the end."""

    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray, ...]] = []

    def add(self, walker, order, x, y, hw, tortuous, plain_x=None, plain_y=None) -> None:
        """Vertices at (x, y); ``plain_x/y`` where the disease did not move them (default: there)."""
        plain_x = x if plain_x is None else plain_x
        plain_y = y if plain_y is None else plain_y
        shape = np.broadcast(x, y).shape
        # Copies: the walker table is updated in place after this call.
        self.parts.append(
            tuple(
                np.array(np.broadcast_to(a, shape)).ravel()
                for a in (walker, order, x, y, hw, tortuous, plain_x, plain_y)
            )
        )

    def sorted(self) -> tuple[np.ndarray, ...]:
        walker, order, x, y, hw, tortuous, plain_x, plain_y = (np.concatenate(c) for c in zip(*self.parts))
        index = np.lexsort((order, walker))
        return (
            walker[index], x[index], y[index], hw[index], tortuous[index].astype(bool),
            plain_x[index], plain_y[index],
        )


def _normalise(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    norm = np.hypot(x, y)
    norm = np.where(norm > 0, norm, 1.0)
    return x / norm, y / norm


def _rotate(x, y, degrees):
    angle = np.radians(degrees)
    c, s = np.cos(angle), np.sin(angle)
    return x * c - y * s, x * s + y * c


def _heading(x, y, dx, dy, sx, sy, p: WalkParams):
    """Momentum blended with the source/sink field and the pull toward the midpoint."""
    kx, ky = 1.0 - sx, 1.0 - sy  # the sink, mirrored through the image centre
    rx, ry = x - sx, y - sy
    qx, qy = x - kx, y - ky
    r3 = np.maximum(np.hypot(rx, ry) ** 3, 1e-12)
    q3 = np.maximum(np.hypot(qx, qy) ** 3, 1e-12)
    fx, fy = _normalise(rx / r3 - p.sink_strength * qx / q3, ry / r3 - p.sink_strength * qy / q3)
    mx, my = _normalise((sx + kx) / 2 - x, (sy + ky) / 2 - y)
    keep = 1.0 - p.vector_field_weight - p.midpoint_weight
    return _normalise(
        p.vector_field_weight * fx + p.midpoint_weight * mx + keep * dx,
        p.vector_field_weight * fy + p.midpoint_weight * my + keep * dy,
    )


def _roots(image_keys: np.ndarray, rop: np.ndarray, p: WalkParams):
    n, k = len(image_keys), p.root_walkers
    band = rng.uniform_between(p.source_band_min, p.source_band_max, image_keys[:, None], _S_SOURCE, [0, 1])
    far_side = rng.uniform(image_keys[:, None], _S_SOURCE, [2, 3]) < 0.5
    source = np.where(far_side, 1.0 - band, band)  # [N, 2]
    # Which roots are tortuous: the first `tortuous_roots` in a random order per image.
    order = np.argsort(rng.uniform(image_keys[:, None], _S_ROOT_ORDER, np.arange(k)), axis=1)
    rank = np.argsort(order, axis=1)
    tortuous = (rank < p.tortuous_roots) & rop[:, None]
    spin = rng.uniform_between(0.0, 360.0 / k, image_keys, _S_ROOT_ROTATION)
    angle = np.radians(spin[:, None] + 360.0 * np.arange(k) / k)
    dx, dy = np.cos(angle), np.sin(angle)
    image = np.repeat(np.arange(n), k)
    kind = np.tile(np.arange(k) % 2, n)  # arteries and veins alternate around the disc
    x = source[:, :1] + p.start_offset * dx
    y = source[:, 1:] + p.start_offset * dy
    uid = rng.combine(np.repeat(image_keys, k), np.tile(np.arange(k), n))
    return source, image, kind, tortuous.ravel(), x.ravel(), y.ravel(), dx.ravel(), dy.ravel(), uid


def simulate_walkers(image_keys: np.ndarray, rop: np.ndarray, p: WalkParams, twins: bool = False) -> VesselTree:
    """Grow the vessel trees of a chunk of images; ``rop[i]`` makes image i tortuous.

    ``twins`` grows trees meant to be drawn twice (diseased and plain): tortuous walkers
    then branch at the normal rate (the vessel count does not depend on the disease) and
    every sine period ends exactly on its axis (the plain twin shares the walker's path
    after each tortuous move bit for bit).
    """
    source, image, kind, tortuous, x, y, dx, dy, uid = _roots(image_keys, rop, p)
    n_roots = len(image)
    kind_mult = np.where(kind == ARTERY, p.artery_width_multiplier, p.vein_width_multiplier)
    w = {  # the walker table; rows are appended as children are born
        "image": image, "kind": kind, "tortuous": tortuous, "uid": uid,
        "x": x, "y": y, "dx": dx, "dy": dy,
        "hw": p.root_half_width * kind_mult,
        "moves": np.zeros(n_roots, np.int64),
        "max_moves": np.full(n_roots, float(p.max_moves)),
        "repro": np.full(n_roots, p.reproduction_probability),
        "generation": np.zeros(n_roots, np.int64),
        "alive": np.ones(n_roots, bool),
    }
    vertices = _Vertices()
    block = max(p.substeps, p.sine_periods * p.sine_samples_per_period) + 1
    vertices.add(np.arange(n_roots), -1, w["x"], w["y"], w["hw"], False)
    lo, hi = -p.world_margin, 1.0 + p.world_margin
    step = 0
    while w["alive"].any():
        step += 1
        active = np.flatnonzero(w["alive"])
        key = w["uid"][active]
        w["moves"][active] += 1
        sx, sy = source[w["image"][active], 0], source[w["image"][active], 1]
        twist = w["tortuous"][active] & (rng.uniform(key, step, _S_TORTUOUS) < p.tortuous_probability)
        _ordinary_moves(w, vertices, active[~twist], key[~twist], sx[~twist], sy[~twist], step, block, p, lo, hi)
        _sine_moves(w, vertices, active[twist], key[twist], sx[twist], sy[twist], step, block, p, lo, hi, twins)
        _branch(w, vertices, active, key, step, block, p, twins)
        w["alive"][active] &= w["moves"][active] <= w["max_moves"][active]
    vessel, vx, vy, vhw, vtort, plain_x, plain_y = vertices.sorted()
    return VesselTree(
        n_images=len(image_keys), source=source,
        vertex_x=vx, vertex_y=vy, vertex_half_width=vhw, vertex_vessel=vessel, vertex_tortuous=vtort,
        vessel_image=w["image"], vessel_kind=w["kind"], vessel_tortuous=w["tortuous"],
        vessel_generation=w["generation"], vessel_key=w["uid"],
        vertex_plain_x=plain_x, vertex_plain_y=plain_y, vertex_diseased=vtort.copy(),
    )


def _ordinary_moves(w, vertices, rows, key, sx, sy, step, block, p, lo, hi) -> None:
    x, y, dx, dy, hw = (w[name][rows] for name in ("x", "y", "dx", "dy", "hw"))
    alive = np.ones(len(rows), bool)
    for sub in range(p.substeps):
        dx, dy = _heading(x, y, dx, dy, sx, sy, p)
        turn = rng.uniform_between(-p.small_turn_degrees, p.small_turn_degrees, key, step, _S_TURN, sub)
        dx, dy = _rotate(dx, dy, turn)
        length = rng.uniform_between(p.step_length_min, p.step_length_max, key, step, _S_LENGTH, sub)
        length = np.where(alive, length, 0.0)  # a walker that left the world stays put
        x = np.clip(x + dx * length, lo, hi)
        y = np.clip(y + dy * length, lo, hi)
        hw = hw * np.exp(-p.width_taper * length)
        vertices.add(rows[alive], step * block + sub, x[alive], y[alive], hw[alive], False)
        alive &= (x > lo) & (x < hi) & (y > lo) & (y < hi)
    w["x"][rows], w["y"][rows], w["dx"][rows], w["dy"][rows], w["hw"][rows] = x, y, dx, dy, hw
    w["alive"][rows] &= alive


def _sine_moves(w, vertices, rows, key, sx, sy, step, block, p, lo, hi, exact_ends: bool) -> None:
    if len(rows) == 0:
        return
    x, y, dx, dy, hw = (w[name][rows] for name in ("x", "y", "dx", "dy", "hw"))
    k = p.sine_samples_per_period
    phase = np.arange(1, k + 1) / k  # [K]
    wave = np.sin(2 * np.pi * phase)
    if exact_ends:
        wave[-1] = 0.0  # sin(2 pi) is -2.4e-16, not 0: the period would end off its axis
    damping = np.exp(-p.sine_damping * w["moves"][rows])
    for period in range(p.sine_periods):
        dx, dy = _heading(x, y, dx, dy, sx, sy, p)
        turn = rng.uniform_between(-p.small_turn_degrees, p.small_turn_degrees, key, step, _S_TURN, period)
        dx, dy = _rotate(dx, dy, turn)
        wavelength = rng.uniform_between(p.sine_wavelength_min, p.sine_wavelength_max, key, step, _S_WAVE, period)
        amplitude = p.sine_amplitude_ratio * wavelength * damping
        along = wavelength[:, None] * phase
        across = amplitude[:, None] * wave
        axis_x = x[:, None] + dx[:, None] * along
        axis_y = y[:, None] + dy[:, None] * along
        px = axis_x - dy[:, None] * across
        py = axis_y + dx[:, None] * across
        sample_hw = hw[:, None] * p.sine_width_factor ** phase
        order = step * block + period * k + np.arange(k)
        vertices.add(rows[:, None], order, px, py, sample_hw, True, axis_x, axis_y)
        x, y, hw = px[:, -1], py[:, -1], sample_hw[:, -1]
    w["x"][rows], w["y"][rows], w["dx"][rows], w["dy"][rows], w["hw"][rows] = x, y, dx, dy, hw
    w["alive"][rows] &= (x > lo) & (x < hi) & (y > lo) & (y < hi)


def _branch(w, vertices, active, key, step, block, p, twins: bool) -> None:
    alive = w["alive"][active]
    mature = w["moves"][active] >= p.maturity_moves
    # The original's 0.75x for tortuous walkers would make ROP trees sparser than healthy
    # ones; twins share one tree, which must not depend on the disease.
    slower = 1.0 if twins else p.tortuous_reproduction_multiplier
    chance = w["repro"][active] * np.where(w["tortuous"][active], slower, 1.0)
    born = alive & mature & (rng.uniform(key, step, _S_BRANCH) < chance)
    parents = active[born]
    if len(parents) == 0:
        return
    pkey = key[born]
    turn = rng.uniform_between(p.branch_turn_min_degrees, p.branch_turn_max_degrees, pkey, step, _S_BRANCH_TURN)
    turn = np.where(rng.uniform(pkey, step, _S_BRANCH_SIGN) < 0.5, -turn, turn)
    cdx, cdy = _rotate(w["dx"][parents], w["dy"][parents], turn)
    child = {
        "image": w["image"][parents], "kind": w["kind"][parents], "tortuous": w["tortuous"][parents],
        "uid": rng.combine(pkey, step, 0xC41D),
        "x": w["x"][parents], "y": w["y"][parents], "dx": cdx, "dy": cdy,
        "hw": w["hw"][parents] * p.child_width_multiplier,
        "moves": w["moves"][parents].copy(),
        "max_moves": w["max_moves"][parents] * p.child_max_moves_multiplier,
        "repro": w["repro"][parents] * p.child_reproduction_multiplier,
        "generation": w["generation"][parents] + 1,
        "alive": np.ones(len(parents), bool),
    }
    first = len(w["image"])
    for name, values in child.items():
        w[name] = np.concatenate([w[name], values])
    new = np.arange(first, first + len(parents))
    vertices.add(new, step * block + block - 1, child["x"], child["y"], child["hw"], False)
