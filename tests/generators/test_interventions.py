"""``straighten``: an ROP image re-drawn once per tortuous stretch, that stretch straightened."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ropbench.specs import StretchInterventions
from ropbench_plugins.generators import VARIANTS, ropbench_register_generators
from ropbench_plugins.generators.ink import TWIN_INKS, bow_units
from ropbench_plugins.generators.interventions import draw_straightened, drawn_image
from ropbench_plugins.generators.raster import dilate_disc

SYNTHETIC = [variant.name for variant in VARIANTS]
VARIANT = {variant.name: variant for variant in VARIANTS}
SIZE = 96


def _spec(name: str):
    return {spec.name: spec for spec in ropbench_register_generators()}[name]


def _longest_bow_half(name: str, index: int, size: int, seed: int) -> float:
    """Half the longest bow unit of an ROP twin, in normalised units (0 if none is bowed)."""
    image = drawn_image(VARIANT[name], index, size, seed, pairing="twins")
    tree, unit = image.tree, bow_units(image.tree)
    rows = np.flatnonzero(unit >= 0)
    step = np.hypot(tree.vertex_x[rows] - tree.vertex_x[rows - 1], tree.vertex_y[rows] - tree.vertex_y[rows - 1])
    return float(np.bincount(unit[rows], weights=step).max()) / 2 if len(rows) else 0.0


def _reach(name: str, size: int, bow_half: float = 0.0) -> float:
    """How far (px) straightening a stretch can change pixels from the stretch's own pixels.

    Derived from the geometry: a straightened vertex moves by at most the disease's
    displacement D (sine moves: amplitude <= ratio x wavelength_max, damping <= 1; graded:
    wavelength_max / pi x sqrt(disease_excess x severity), the extra wiggle amplitude),
    so a drawn pixel of the new path lies within D + half-width + 0.5 of the old centreline,
    whose nearest pixel is a stretch pixel (<= sqrt(2)/2 away). A bowed twin's vertex
    lies on an arc as long as its unit, within half of it of one of the unit's ends
    (``bow_half``), which are on the stretch. rw-fundus blurs vessels by ceil(3 sigma)
    more along rows and columns (sqrt(2) x that along a diagonal).
    """
    p = VARIANT[name].defaults
    if name == "rw-graded":
        displacement = p["wavelength_max"] / math.pi * math.sqrt(p["disease_excess"] * p["severity"])
    else:
        displacement = max(p["sine_amplitude_ratio"] * p["sine_wavelength_max"], bow_half)
    widest = p["root_half_width"] * max(p["artery_width_multiplier"], p["vein_width_multiplier"])
    blur = math.sqrt(2) * math.ceil(3 * p["blur"] * size) if "blur" in p else 0.0
    return (displacement + widest) * size + 0.5 + math.sqrt(2) / 2 + blur


@pytest.mark.parametrize("pairing", ["none", "twins"])
@pytest.mark.parametrize("name", SYNTHETIC)
def test_straightening_changes_pixels_only_near_the_stretch(name: str, pairing: str) -> None:
    spec = _spec(name)
    for index in (1, 3):
        result = spec.straighten(index, SIZE, 4, pairing=pairing)
        assert isinstance(result, StretchInterventions) and len(result) >= 1
        original = spec.generate(n=1, size=SIZE, seed=4, start=index, pairing=pairing).images
        assert result.images.shape == (len(result), 3, SIZE, SIZE) and result.images.dtype == torch.uint8
        assert torch.equal(result.changed, (result.images != original).any(1))
        assert bool(result.stretches.flatten(1).any(1).all()), "every stretch shows in the picture"
        bow_half = _longest_bow_half(name, index, SIZE, 4) if pairing == "twins" else 0.0
        near = dilate_disc(result.stretches, _reach(name, SIZE, bow_half))
        assert not bool((result.changed & ~near).any())
        assert bool(result.changed.flatten(1).any(1).float().mean() > 0.5), "straightening shows"


@pytest.mark.parametrize("name", ["rw-classic", "rw-fundus"])
def test_the_stretches_are_the_tortuous_vessels(name: str) -> None:
    # A sine move's segments are the tortuous segments, and each is in one stretch.
    spec = _spec(name)
    result = spec.straighten(5, SIZE, 2)
    drawn = spec.generate(n=1, size=SIZE, seed=2, start=5)
    assert torch.equal(result.stretches.any(0), drawn.tortuous_vessels[0])


@pytest.mark.parametrize("twin_ink", TWIN_INKS)
@pytest.mark.parametrize("name", SYNTHETIC)
def test_every_stretch_straightened_is_the_healthy_twin(name: str, twin_ink: str) -> None:
    spec = _spec(name)
    for index in (1, 7):
        image = drawn_image(VARIANT[name], index, SIZE, 6, pairing="twins", twin_ink=twin_ink)
        straight = draw_straightened(image, [np.arange(image.n_stretches)])
        twin = spec.generate(n=1, size=SIZE, seed=6, start=index - 1, pairing="twins", twin_ink=twin_ink)
        assert torch.equal(straight[0], twin.images[0])


def test_one_stretch_at_a_time_leaves_the_others_tortuous() -> None:
    image = drawn_image(VARIANT["rw-classic"], 3, SIZE, 1)
    assert image.n_stretches >= 2
    first, second = draw_straightened(image, [np.array([0]), np.array([1])])
    assert not torch.equal(first, second)


def test_healthy_images_have_no_interventions() -> None:
    assert _spec("rw-classic").straighten(4, SIZE, 0) is None
    assert _spec("rw-classic").straighten(4, SIZE, 0, pairing="twins") is None
