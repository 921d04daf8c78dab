"""Augmentations that keep masks aligned: the eight flips/90-degree rotations of a square.

The dihedral group preserves vessel tortuosity and maps the tortuous-region mask exactly
(no interpolation), so guidance targets stay pixel-exact.
"""

from __future__ import annotations

import torch

__all__ = ["dihedral_transform", "random_dihedral"]


def dihedral_transform(tensor: torch.Tensor, index: int) -> torch.Tensor:
    """Element ``index`` (0-7) of the dihedral group on the last two (square) dimensions.

    ``index % 4`` quarter turns, then a left-right flip when ``index >= 4``.
    """
    out = torch.rot90(tensor, index % 4, dims=(-2, -1))
    return out.flip(-1) if index >= 4 else out


def random_dihedral(
    images: torch.Tensor, masks: torch.Tensor | None, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Apply one random dihedral element per image, the same one to its mask.

    :param images: [N, C, H, W] with H == W (any dtype).
    :param masks: [N, H, W] or None.
    :param generator: the augmentation stream (CPU).
    :return: new tensors; inputs are not modified.
    """
    if images.shape[-1] != images.shape[-2]:
        raise ValueError(f"dihedral augmentation needs square images, got {tuple(images.shape[-2:])}")
    choice = torch.randint(0, 8, (images.shape[0],), generator=generator).to(images.device)
    out_images = images.clone()
    out_masks = masks.clone() if masks is not None else None
    # One batched transform per group element: 8 ops, not one per image.
    for index in range(1, 8):
        rows = (choice == index).nonzero().flatten()
        if rows.numel() == 0:
            continue
        out_images[rows] = dihedral_transform(images[rows], index)
        if out_masks is not None:
            out_masks[rows] = dihedral_transform(masks[rows], index)
    return out_images, out_masks
