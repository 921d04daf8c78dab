"""Pathology-aware channel selection (Wang et al.): which feature maps look like a lesion.

Feature maps are kept when their L1 activation exceeds ``theta_act`` of the strongest
map's; kept maps are split at the median of their centroid-centric moment of inertia into a
*compact* group (activation concentrated around its centroid, lesion-like) and a
*diffuse* group. Grad-CAM then weights only the chosen group.

The inertia is normalised by the map's mass (a squared radius of gyration, in units of
the map side) so that it measures spread, not activation strength.
"""

from __future__ import annotations

import torch

__all__ = ["moment_of_inertia", "pathology_channels"]


def moment_of_inertia(activations: torch.Tensor) -> torch.Tensor:
    """Mass-normalised moment of inertia about each map's centroid, [N, C].

    Mass is the positive part of the activation; coordinates are pixel centres in
    [0, 1]; an all-zero map gets inertia 0.
    """
    n, c, h, w = activations.shape
    mass = activations.clamp_min(0).to(torch.float32)
    total = mass.sum(dim=(2, 3))
    safe_total = total.clamp_min(torch.finfo(torch.float32).tiny)
    rows = (torch.arange(h, device=mass.device, dtype=torch.float32) + 0.5) / h
    cols = (torch.arange(w, device=mass.device, dtype=torch.float32) + 0.5) / w
    centre_row = (mass.sum(dim=3) * rows).sum(dim=2) / safe_total
    centre_col = (mass.sum(dim=2) * cols).sum(dim=2) / safe_total
    squared_distance = (rows.view(1, 1, h, 1) - centre_row[..., None, None]).pow(2) + (
        cols.view(1, 1, 1, w) - centre_col[..., None, None]
    ).pow(2)
    inertia = (mass * squared_distance).sum(dim=(2, 3)) / safe_total
    return torch.where(total > 0, inertia, torch.zeros_like(inertia))


def pathology_channels(activations: torch.Tensor, theta_act: float, group: str) -> torch.Tensor:
    """bool [N, C]: the channels of the chosen group (``compact`` or ``diffuse``)."""
    if group not in ("compact", "diffuse"):
        raise ValueError(f"group must be 'compact' or 'diffuse', got {group!r}")
    strength = activations.abs().sum(dim=(2, 3))
    kept = strength >= theta_act * strength.amax(dim=1, keepdim=True)
    kept &= strength > 0
    inertia = moment_of_inertia(activations)
    candidates = inertia.masked_fill(~kept, float("nan"))
    # Lower median for the compact group, upper for the diffuse one: with an even count
    # the groups are the two halves, with an odd count both hold the median map.
    if group == "compact":
        chosen = inertia <= candidates.nanquantile(0.5, dim=1, keepdim=True, interpolation="lower")
    else:
        chosen = inertia >= candidates.nanquantile(0.5, dim=1, keepdim=True, interpolation="higher")
    return kept & chosen
