"""Augmentation keeps masks aligned; epochs are class-balanced; batches never end in one image."""

from __future__ import annotations

import torch

from ropbench.training.augment import dihedral_transform, random_dihedral
from ropbench.training.sampling import balanced_epoch_order, batch_slices


def test_dihedral_elements_are_the_eight_distinct_symmetries() -> None:
    square = torch.arange(16.0).view(1, 4, 4)
    images = {tuple(dihedral_transform(square, k).flatten().tolist()) for k in range(8)}
    assert len(images) == 8
    assert torch.equal(dihedral_transform(square, 1), torch.rot90(square, 1, dims=(-2, -1)))
    assert torch.equal(dihedral_transform(square, 4), square.flip(-1))


def test_random_dihedral_moves_mask_with_image() -> None:
    generator = torch.Generator().manual_seed(0)
    masks = torch.rand(64, 8, 8, generator=generator) > 0.7
    images = torch.stack([masks.to(torch.uint8) * 255, torch.zeros_like(masks, dtype=torch.uint8),
                          torch.arange(64, dtype=torch.uint8).view(1, 8, 8).expand(64, 8, 8)], dim=1)
    out_images, out_masks = random_dihedral(images, masks, torch.Generator().manual_seed(1))
    assert torch.equal(out_images[:, 0] == 255, out_masks)
    # The asymmetric third channel reveals which element each image got: all eight occur.
    used = {next(k for k in range(8) if torch.equal(out_images[i, 2], dihedral_transform(images[i, 2], k)))
            for i in range(64)}
    assert used == set(range(8))
    assert not torch.equal(out_images, images)  # inputs untouched, outputs changed


def test_balanced_epoch_order_oversamples_minority() -> None:
    labels = torch.tensor([0] * 10 + [1] * 3)
    order = balanced_epoch_order(labels, torch.Generator().manual_seed(0))
    assert len(order) == 20
    assert int((labels[order] == 1).sum()) == 10
    assert set(order[labels[order] == 0].tolist()) == set(range(10))  # majority: each once
    assert set(order[labels[order] == 1].tolist()) == {10, 11, 12}


def test_balanced_epoch_order_is_a_permutation_when_balanced_and_seeded() -> None:
    labels = torch.tensor([0, 1] * 8)
    first = balanced_epoch_order(labels, torch.Generator().manual_seed(3))
    again = balanced_epoch_order(labels, torch.Generator().manual_seed(3))
    assert sorted(first.tolist()) == list(range(16))
    assert torch.equal(first, again)


def test_batch_slices_merge_a_trailing_single_image() -> None:
    assert [(s.start, s.stop) for s in batch_slices(9, 4)] == [(0, 4), (4, 9)]
    assert [(s.start, s.stop) for s in batch_slices(10, 4)] == [(0, 4), (4, 8), (8, 10)]
    assert [(s.start, s.stop) for s in batch_slices(1, 4)] == [(0, 1)]
