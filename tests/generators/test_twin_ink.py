"""``twin_ink``: how a healthy twin draws its ROP twin's tortuous stretches (bowed, widened, free)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ropbench.errors import RopbenchError
from ropbench_plugins.generators import VARIANTS, ropbench_register_generators
from ropbench_plugins.generators.ink import TWIN_INKS, bow_units, bowed_positions, stretch_ink_ratio, straighten
from ropbench_plugins.generators.pipeline import check_params, grow_trees, image_keys
from ropbench_plugins.generators.walk_params import WalkParams

VARIANT = {variant.name: variant for variant in VARIANTS}
SYNTHETIC = list(VARIANT)
# Pronounced but gentle bursts (the recommended quick data's kind): many bow units per image.
GENTLE = {"tortuous_probability": 0.3, "sine_damping": 0.0, "sine_amplitude_ratio": 0.2,
          "sine_wavelength_min": 0.1, "sine_wavelength_max": 0.16}


def _spec(name: str):
    return {spec.name: spec for spec in ropbench_register_generators()}[name]


def _pair_trees(name: str, n_pairs: int, seed: int, **params):
    """(ROP tree, healthy tree, walk) of pairs 0..n_pairs-1, each tree holding one image per pair."""
    variant = VARIANT[name]
    merged = check_params(variant, {"pairing": "twins", **params})
    rop_index = np.arange(n_pairs) * 2 + 1
    keys = image_keys(variant, rop_index, np.zeros(n_pairs, np.int64), seed, twins=True)
    walk = WalkParams.from_params(merged)
    diseased, _ = grow_trees(variant, keys, np.ones(n_pairs, bool), walk, merged, True)
    healthy = straighten(diseased, np.ones(len(diseased.vertex_x), bool), walk.min_half_width, merged)
    return diseased, healthy, walk


def _segment_ink(tree, min_half_width: float) -> np.ndarray:
    """float [N]: sum over each image's segments of length x drawn half-width (the ink
    before pixels: the renderer's coverage integrates to the width across a segment)."""
    k = np.flatnonzero(tree.vertex_vessel[1:] == tree.vertex_vessel[:-1])
    width = np.maximum((tree.vertex_half_width[k] + tree.vertex_half_width[k + 1]) / 2, min_half_width)
    if tree.vertex_width_scale is not None:
        width = width * tree.vertex_width_scale[k + 1]
    length = np.hypot(tree.vertex_x[k + 1] - tree.vertex_x[k], tree.vertex_y[k + 1] - tree.vertex_y[k])
    return np.bincount(tree.vessel_image[tree.vertex_vessel[k]], weights=length * width, minlength=tree.n_images)


@pytest.mark.parametrize("twin_ink", TWIN_INKS)
@pytest.mark.parametrize("name", SYNTHETIC)
def test_twins_are_identical_outside_the_region_for_every_ink_rule(name: str, twin_ink: str) -> None:
    batch = _spec(name).generate(n=16, size=64, seed=5, pairing="twins", twin_ink=twin_ink)
    healthy, rop = batch.select(slice(0, None, 2)), batch.select(slice(1, None, 2))
    outside = ~rop.masks
    assert torch.equal(healthy.images * outside[:, None], rop.images * outside[:, None])
    assert torch.equal(healthy.vessels * outside, rop.vessels * outside)
    assert bool((healthy.images != rop.images).flatten(1).any(1).all())


@pytest.mark.parametrize("name", ["rw-classic", "rw-fundus"])
def test_a_bow_draws_the_same_segments_in_another_shape(name: str) -> None:
    # Each bowed vertex sits at its own arc length along a circular arc as long as the
    # unit, so a healthy segment is the chord of an arc piece as long as its diseased
    # segment: never longer, and shorter by 1 - sin(a/2)/(a/2) <= a^2/24 for a piece of
    # angle a. A piece is at most 1/8 of its unit (16 samples per period; a sample of
    # the steepest sine, amplitude wavelength/2, is at most sqrt(1 + pi^2) / 2.3 = 1.4
    # times the mean) and the arc spans under 2 pi, so a < pi/4: shorter by < 2.6 %.
    # Widths are the same vertices' widths, so the segment ink obeys the same bounds.
    diseased, healthy, walk = _pair_trees(name, 24, seed=3)
    rop_ink, healthy_ink = _segment_ink(diseased, walk.min_half_width), _segment_ink(healthy, walk.min_half_width)
    assert np.all(healthy_ink <= rop_ink * (1 + 1e-12))
    assert np.all(healthy_ink >= rop_ink * (1 - (np.pi / 4) ** 2 / 24))
    assert np.array_equal(healthy.vertex_half_width, diseased.vertex_half_width)


def test_bowed_units_lie_on_circles_through_their_endpoints() -> None:
    diseased, _, _ = _pair_trees("rw-classic", 8, seed=1, **GENTLE)
    x, y, bowed = bowed_positions(diseased)
    unit = bow_units(diseased)
    assert bowed.any()
    for u in np.unique(unit[bowed])[:40]:
        rows = np.flatnonzero(unit == u)
        anchor, end = rows[0] - 1, rows[-1]
        assert (x[end], y[end]) == (diseased.vertex_x[end], diseased.vertex_y[end])  # the endpoint stays
        px, py = np.r_[x[anchor], x[rows]], np.r_[y[anchor], y[rows]]
        # The centre is equidistant from the anchor, the end and a middle vertex (circumcentre).
        a, b, c = np.array([px[0], py[0]]), np.array([px[-1], py[-1]]), np.array([px[len(px) // 2], py[len(py) // 2]])
        matrix = 2 * np.array([b - a, c - a])
        centre = np.linalg.solve(matrix, [b @ b - a @ a, c @ c - a @ a])
        radius = np.hypot(px - centre[0], py - centre[1])
        assert np.allclose(radius, radius[0], rtol=1e-6)


def test_bowing_moves_no_vessel_start() -> None:
    # Every vessel but a root starts where its parent was at its birth; a bow unit ends at
    # such a point, so in the healthy twin each child still starts on its parent.
    diseased, healthy, _ = _pair_trees("rw-classic", 12, seed=7, **GENTLE)
    first = np.r_[True, healthy.vertex_vessel[1:] != healthy.vertex_vessel[:-1]]
    children = np.flatnonzero(first & (healthy.vessel_generation[healthy.vertex_vessel] > 0))
    assert np.array_equal(healthy.vertex_x[children], diseased.vertex_x[children])
    on_parent = set(zip(healthy.vertex_x[~first].tolist(), healthy.vertex_y[~first].tolist()))
    assert all((healthy.vertex_x[c], healthy.vertex_y[c]) in on_parent for c in children)


def test_a_bow_has_no_inflection() -> None:
    # The disease is the wiggle: the healthy twin keeps its length (the distance metric
    # arc/chord cannot tell the twins apart) but not one of its inflections.
    batch = _spec("rw-classic").generate(n=16, size=32, seed=2, pairing="twins", **GENTLE)
    for healthy, rop in zip(batch.metadata[0::2], batch.metadata[1::2]):
        for plain, sick in zip(healthy["vessels"], rop["vessels"]):
            if sick["tortuous"] and sick["inflections"] > 0:
                assert plain["length"] == pytest.approx(sick["length"], rel=0.01)
                assert plain["inflections"] < sick["inflections"]


@pytest.mark.parametrize("name", ["rw-classic", "rw-fundus", "rw-graded"])
def test_widened_twins_have_the_same_segment_ink(name: str) -> None:
    # A straight stretch drawn stretch_ink_ratio times as wide holds its wiggle's
    # length x width exactly (the ratio is that quotient).
    diseased, _, walk = _pair_trees(name, 16, seed=4)
    merged = {"pairing": "twins", "twin_ink": "widened"}
    widened = straighten(diseased, np.ones(len(diseased.vertex_x), bool), walk.min_half_width, merged)
    widened_ink, rop_ink = _segment_ink(widened, walk.min_half_width), _segment_ink(diseased, walk.min_half_width)
    assert np.allclose(widened_ink, rop_ink, rtol=1e-9)
    assert (stretch_ink_ratio(diseased, walk.min_half_width)[diseased.vertex_diseased] > 1).all()


def test_the_vessel_plane_holds_as_much_ink_in_both_twins() -> None:
    # The rendered ink differs per pair only where pixels overlap (crossings, a bow's own
    # joints) and where the border clips a bow and a wiggle differently: on average over
    # pairs the twins match to 2 %. Straightened (free), the sine bursts' extra length
    # shows: a burst of amplitude a x wavelength is longer than its chord by
    # mean(sqrt(1 + (2 pi a cos t)^2)) - 1 = 32 % at a = 0.2, here about a tenth of the ink.
    spec = _spec("rw-classic")
    ratios = {}
    for twin_ink in ("bowed", "free"):
        batch = spec.generate(n=64, size=96, seed=9, pairing="twins", twin_ink=twin_ink, **GENTLE)
        ink = batch.vessels.flatten(1).sum(1)
        ratios[twin_ink] = float((ink[1::2] / ink[0::2]).mean())
    assert abs(ratios["bowed"] - 1) < 0.02
    assert ratios["free"] > 1.05


def test_twin_ink_changes_nothing_unpaired() -> None:
    spec = _spec("rw-classic")
    plain = spec.generate(n=4, size=32, seed=1)
    for twin_ink in TWIN_INKS:
        assert torch.equal(spec.generate(n=4, size=32, seed=1, twin_ink=twin_ink).images, plain.images)


def test_an_unknown_ink_rule_is_named() -> None:
    with pytest.raises(RopbenchError, match="twin_ink must be one of bowed, widened, free"):
        _spec("rw-classic").generate(n=2, size=16, seed=0, pairing="twins", twin_ink="matched")
