"""Which pixels are vessel pixels, and the vessel segments they belong to.

One definition serves the vessel-map controls and every prior-controlled metric: a pixel
is a vessel pixel when the vessel plane covers at least :data:`VESSEL_THRESHOLD` of it.
Because the ``vessel-map`` control is exactly this indicator, it is constant on the
vessel pixels, so any metric that ranks heat *among* vessel pixels gives it exactly its
chance level.

A vessel *segment* is one branch of the vessel skeleton between junctions (or ends),
together with the vessel pixels nearest to it: the unit of ``segment-auroc``.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["VESSEL_THRESHOLD", "vessel_pixels", "vessel_segments", "skeleton_branches"]

# A quarter of a pixel covered: the thin vessels of a 64-px image still count (their
# centre lines reach about 0.6), the faint anti-aliasing fringe does not. Measured on
# rw-classic: 66 % (64 px) to 78 % (224 px) of tortuous vessel pixels pass, and the
# tortuous share of vessel pixels is 0.10-0.11 at every size. At 0.5 a 64-px image kept
# 0.3 % of its pixels and no tortuous one. Binary planes (the seed format) do not care.
VESSEL_THRESHOLD = 0.25

# 8-connectivity: diagonal steps connect skeleton pixels, as scikit-image draws them.
EIGHT_CONNECTED = np.ones((3, 3), dtype=bool)
_NEIGHBOURS = np.array([[1, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=np.uint8)


def vessel_pixels(vessels: torch.Tensor) -> torch.Tensor:
    """bool [..., H, W]: pixels the vessel plane covers at least :data:`VESSEL_THRESHOLD`."""
    return vessels >= VESSEL_THRESHOLD


def skeleton_branches(skeleton: np.ndarray) -> tuple[np.ndarray, int]:
    """(int32 [H, W] branch ids 1..K, K) of a one-pixel-wide skeleton, 0 elsewhere.

    A junction pixel is a skeleton pixel with three or more skeleton pixels among its 8
    neighbours; removing the junction pixels leaves the branches, labelled as
    8-connected components. Junction pixels get no branch (0).
    """
    from scipy import ndimage

    skeleton = skeleton.astype(bool, copy=False)
    neighbours = ndimage.convolve(skeleton.astype(np.uint8), _NEIGHBOURS, mode="constant")
    branches = skeleton & (neighbours < 3)
    labels, count = ndimage.label(branches, structure=EIGHT_CONNECTED)
    return labels.astype(np.int32, copy=False), int(count)


def _image_segments(vessel: np.ndarray) -> np.ndarray:
    from scipy import ndimage
    from skimage.morphology import skeletonize

    segments = np.zeros(vessel.shape, dtype=np.int32)
    if not vessel.any():
        return segments
    labels, count = skeleton_branches(skeletonize(vessel))
    if count == 0:  # a skeleton made of junctions only cannot happen; stay safe anyway
        return segments
    # For every pixel, the coordinates of the nearest branch pixel (Euclidean; ties
    # broken by scipy's scan order, deterministically).
    _, (rows, cols) = ndimage.distance_transform_edt(labels == 0, return_indices=True)
    segments[vessel] = labels[rows[vessel], cols[vessel]]
    return segments


def vessel_segments(vessels: torch.Tensor) -> torch.Tensor:
    """int32 [N, H, W]: the skeleton branch each vessel pixel belongs to, 0 elsewhere.

    Per image: skeletonise the vessel pixels (:func:`vessel_pixels`) with scikit-image,
    split the skeleton at its junctions (:func:`skeleton_branches`), number the branches
    1..K within the image, and give every vessel pixel the id of its nearest branch
    pixel. Called once per test split in the data stage (a loop over images: the
    skeleton is a per-image operation).
    """
    if vessels.dim() != 3:
        raise ValueError(f"vessels must be [N, H, W], got {tuple(vessels.shape)}")
    indicator = vessel_pixels(vessels.detach().cpu()).numpy()
    segments = np.zeros(indicator.shape, dtype=np.int32)
    for index, vessel in enumerate(indicator):
        segments[index] = _image_segments(vessel)
    return torch.from_numpy(segments)
