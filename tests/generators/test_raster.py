"""The anti-aliased capsule rasteriser and the disc dilation."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import ndimage

from ropbench_plugins.generators.raster import dilate_disc, render_segments


def _line(half_width: float, size: int = 40) -> torch.Tensor:
    t = torch.tensor
    return render_segments(
        t([0]), t([5.0]), t([20.3]), t([34.0]), t([20.3]), t([half_width]), n_images=1, size=size
    )[0]


@pytest.mark.parametrize("half_width", [0.2, 0.5, 1.5])
def test_coverage_per_column_matches_the_width(half_width: float) -> None:
    # Away from the caps, a horizontal line's column sums are its width: sub-pixel widths
    # show as fainter lines rather than vanishing or snapping to a whole pixel.
    column = _line(half_width)[:, 12:28].sum(0)
    assert torch.allclose(column, torch.full_like(column, 2 * half_width), atol=0.15)


def test_coverage_is_in_unit_range_and_local() -> None:
    image = _line(2.0)
    assert float(image.min()) >= 0 and float(image.max()) == pytest.approx(1.0)
    rows = image.sum(1).nonzero().flatten()
    assert 20.3 - 3.5 <= float(rows.min()) and float(rows.max()) <= 20.3 + 3.5


def test_long_segments_equal_their_pieces() -> None:
    t = torch.tensor
    whole = render_segments(t([0]), t([2.0]), t([3.0]), t([30.0]), t([25.0]), t([1.0]), 1, 32, max_piece=100.0)
    pieces = render_segments(t([0]), t([2.0]), t([3.0]), t([30.0]), t([25.0]), t([1.0]), 1, 32, max_piece=2.0)
    assert torch.allclose(whole, pieces, atol=1e-5)


def test_segments_go_to_their_own_image_and_clip_at_borders() -> None:
    t = torch.tensor
    out = render_segments(t([1, 1]), t([-5.0, 10.0]), t([0.0, 10.0]), t([50.0, 12.0]), t([0.0, 14.0]),
                          t([1.0, 1.0]), n_images=3, size=16)
    assert float(out[0].sum()) == 0 and float(out[2].sum()) == 0
    assert float(out[1, 0].sum()) > 10  # the part inside the image is drawn


@pytest.mark.parametrize("radius", [0.5, 1.0, 2.5, 3.73, 8.5])
def test_dilate_disc_matches_the_euclidean_distance(radius: float) -> None:
    mask = torch.rand(2, 30, 37, generator=torch.Generator().manual_seed(1)) > 0.985
    expected = np.stack([ndimage.distance_transform_edt(~m.numpy()) <= radius for m in mask])
    assert np.array_equal(dilate_disc(mask, radius).numpy(), expected)


@pytest.mark.parametrize("radius", [3.2, 10.0, 25.5])
def test_dilate_disc_is_exact_with_empty_images_and_wide_discs(radius: float) -> None:
    # Empty images and rows far from any set pixel are skipped: the result must not show it,
    # including discs wider than the image (25.5 px on a 20 x 41 image).
    mask = torch.zeros(4, 20, 41, dtype=torch.bool)
    mask[1, 3, 7] = mask[1, 4, 30] = mask[3, 18, 0] = True
    expected = np.stack([
        ndimage.distance_transform_edt(~m.numpy()) <= radius if m.any() else np.zeros(m.shape, bool) for m in mask
    ])
    assert np.array_equal(dilate_disc(mask, radius).numpy(), expected)


def test_pieces_off_the_image_or_on_its_border_draw_what_they_cover() -> None:
    # The same segment drawn whole and cut into pieces that straddle the border, lie on
    # it, or lie outside must agree: culling and unclipped interior patches change nothing.
    t = torch.tensor
    args = (t([0]), t([-30.0]), t([-4.0]), t([40.0]), t([20.0]), t([1.3]))
    whole = render_segments(*args, n_images=1, size=24, max_piece=1000.0)
    pieces = render_segments(*args, n_images=1, size=24, max_piece=3.0)
    assert torch.allclose(whole, pieces, atol=1e-5)
    assert float(whole.sum()) > 0
