"""Ground truth: masks where the tortuous vessels are, indices that separate the classes."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from ropbench.registry import get_registry
from ropbench_plugins.generators import VARIANTS

SYNTHETIC = [variant.name for variant in VARIANTS]


@pytest.mark.parametrize("name", SYNTHETIC)
def test_every_mask_pixel_is_within_the_margin_of_a_tortuous_vessel(name: str) -> None:
    size = 90
    batch = get_registry().generators.get(name).generate(n=6, size=size, seed=11)
    margin = size / 60
    for mask, tortuous in zip(batch.masks[1::2], batch.tortuous_vessels[1::2]):
        distance = ndimage.distance_transform_edt(~tortuous.numpy())
        assert mask.any() and tortuous.any()
        assert distance[mask.numpy()].max() <= margin + 1e-9
        # ...and the region is the whole margin, not a part of it.
        assert np.array_equal(mask.numpy(), distance <= margin)


@pytest.mark.parametrize("name", SYNTHETIC)
def test_tortuous_vessels_are_drawn_vessels(name: str) -> None:
    batch = get_registry().generators.get(name).generate(n=4, size=64, seed=5)
    assert not bool((batch.tortuous_vessels & (batch.vessels <= 0)).any())


@pytest.mark.parametrize("name", SYNTHETIC)
def test_healthy_images_are_less_tortuous_than_rop_images(name: str) -> None:
    batch = get_registry().generators.get(name).generate(n=40, size=12, seed=0)
    arc_chord = np.array([m["arc_chord"] for m in batch.metadata])
    labels = batch.labels.numpy()
    assert arc_chord[labels == 0].mean() < arc_chord[labels == 1].mean()


def _rop_arc_chord(severity: float) -> float:
    batch = get_registry().generators.get("rw-graded").generate(n=40, size=12, seed=3, severity=severity)
    return float(np.mean([m["arc_chord"] for m, label in zip(batch.metadata, batch.labels) if label == 1]))


def test_graded_severity_is_monotone_in_its_parameter() -> None:
    values = [_rop_arc_chord(s) for s in (0.0, 0.5, 1.0, 2.0)]
    assert values == sorted(values) and len(set(values)) == len(values)


def test_graded_is_calibrated_to_clinical_ranges() -> None:
    batch = get_registry().generators.get("rw-graded").generate(n=40, size=12, seed=8)
    vessels = [(m["severity"], v) for m in batch.metadata for v in m["vessels"] if v["length"] > 0.1]
    healthy_arteries = [v["arc_chord"] for s, v in vessels if s == 0 and v["kind"] == "artery"]
    healthy_veins = [v["arc_chord"] for s, v in vessels if s == 0 and v["kind"] == "vein"]
    assert 1.05 <= np.mean(healthy_arteries) <= 1.11
    assert np.mean(healthy_veins) < np.mean(healthy_arteries)
    severities = [m["severity"] for m in batch.metadata[1::2]]
    assert all(0.25 <= s <= 1.0 for s in severities) and len(set(severities)) == len(severities)


def test_graded_tortuosity_grows_with_distance_from_the_disc() -> None:
    batch = get_registry().generators.get("rw-graded").generate(n=2, size=128, seed=1)
    disc = np.array(batch.metadata[1]["optic_disc"]) * 128
    rows, cols = np.nonzero(batch.tortuous_vessels[1].numpy())
    # Disease starts at the onset distance: nothing tortuous right at the disc.
    assert np.hypot(cols + 0.5 - disc[0], rows + 0.5 - disc[1]).min() > 0.12 * 128


def test_fundus_ground_truth_stays_inside_the_field_of_view() -> None:
    from ropbench_plugins.generators.fundus import FUNDUS, field_of_view

    batch = get_registry().generators.get("rw-fundus").generate(n=6, size=64, seed=2)
    outside = ~field_of_view(64, FUNDUS.defaults)
    assert not bool(batch.tortuous_vessels[:, outside].any()) and float(batch.vessels[:, outside].max()) == 0
    assert int(batch.images[:, :, outside].max()) == 0
    inside = batch.images[:, :, ~outside].float().mean((0, 2))
    assert inside[0] > inside[1] > inside[2]  # orange-red: R > G > B
    kinds = {v["kind"] for m in batch.metadata for v in m["vessels"]}
    assert kinds == {"artery", "vein"}


def test_severity_is_recorded_per_image() -> None:
    batch = get_registry().generators.get("rw-classic").generate(n=4, size=16, seed=0)
    assert [m["severity"] for m in batch.metadata] == [0.0, 1.0, 0.0, 1.0]
