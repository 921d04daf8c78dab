"""``rw-fundus``: the random-walker geometry painted as a fundus photograph.

Orange-red background with low- and mid-frequency texture, a bright optic disc at the
field's source, a darker macula between disc and sink, arteries (lighter, narrower) and
veins (darker, wider), a circular field of view with vignetting, blur and sensor noise.
All randomness is hashed from the image key, so pixels do not depend on chunking.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import torch
import torch.nn.functional as F

from . import rng
from .pipeline import PAIRING_DEFAULTS, Coverage, Variant
from .walk_params import CLASSIC_WALK

__all__ = ["FUNDUS", "field_of_view", "paint_fundus"]

_S_TEXTURE, _S_TINT, _S_NOISE = 300, 301, 302

FUNDUS_PAINT_DEFAULTS: dict[str, Any] = {
    "background_rgb": [0.80, 0.36, 0.16],
    "tint_jitter": 0.06,  # per-image pigmentation spread
    "texture_strength": 0.10,
    "disc_radius": 0.055,
    "disc_rgb": [1.0, 0.86, 0.62],
    "macula_radius": 0.08,
    "macula_darkening": 0.35,
    "artery_rgb": [0.62, 0.12, 0.08],
    "vein_rgb": [0.38, 0.05, 0.06],
    "vessel_opacity": 0.9,
    "fov_radius": 0.49,
    "vignetting": 0.45,
    "blur": 0.003,  # Gaussian sigma as a fraction of the side
    "noise_std": 0.015,
}

# The tree of rw-classic, with the disc kept inside the field of view, gentler tapering
# (real vessels at 224 px are 0.5-4.5 px wide) and wider veins than arteries.
FUNDUS_WALK = CLASSIC_WALK.as_params() | {
    "source_band_min": 0.22,
    "source_band_max": 0.36,
    "root_half_width": 0.0085,
    "child_width_multiplier": 0.6,
    "width_taper": 1.5,
    "sine_width_factor": 0.8,
    "min_half_width": 0.0012,
    "artery_width_multiplier": 0.8,
    "vein_width_multiplier": 1.15,
}


def field_of_view(size: int, params: Mapping[str, Any]) -> torch.Tensor:
    """bool [H, W]: pixel centres inside the circular field of view."""
    u = (torch.arange(size, dtype=torch.float32) + 0.5) / size - 0.5
    return (u[:, None] ** 2 + u[None, :] ** 2) <= float(params["fov_radius"]) ** 2


def _smooth_noise(keys: np.ndarray, stream: int, grid: int, size: int) -> torch.Tensor:
    """Per-image smooth noise [N, 1, H, W]: a hashed grid of normals, upsampled."""
    values = rng.normal(keys[:, None], stream, grid, np.arange(grid * grid))
    coarse = torch.from_numpy(values).to(torch.float32).view(-1, 1, grid, grid)
    return F.interpolate(coarse, size=(size, size), mode="bicubic", align_corners=False)


def _blob(distance2: torch.Tensor, radius: float) -> torch.Tensor:
    """Soft-edged disc: 1 inside, 0 outside, a smooth step about 20 % of the radius wide."""
    ramp = torch.clamp((1.2 - torch.sqrt(distance2) / radius) / 0.4, 0.0, 1.0)
    return ramp * ramp * (3 - 2 * ramp)  # smoothstep


def _gaussian_blur(images: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur by shifted adds (conv2d with one channel is far slower)."""
    if sigma < 0.3:
        return images
    radius = int(np.ceil(3 * sigma))
    taps = np.exp(-(np.arange(-radius, radius + 1) ** 2) / (2 * sigma**2))
    taps = (taps / taps.sum()).tolist()
    height, width = images.shape[-2:]
    padded = F.pad(images, (radius, radius, 0, 0), mode="replicate")
    rows = sum(w * padded[..., :, k : k + width] for k, w in enumerate(taps))
    padded = F.pad(rows, (0, 0, radius, radius), mode="replicate")
    return sum(w * padded[..., k : k + height, :] for k, w in enumerate(taps))


def paint_fundus(coverage: Coverage, params: Mapping[str, Any]) -> torch.Tensor:
    """uint8 [N, 3, H, W] fundus-like pictures of the covered vessels."""
    keys, size = coverage.image_keys, coverage.size
    u = (torch.arange(size, dtype=torch.float32) + 0.5) / size
    gx, gy = u[None, None, :], u[None, :, None]
    fov = field_of_view(size, params)

    # Per-pixel shading shared by the three channels: texture, macula, vignetting.
    shade = 1 + float(params["texture_strength"]) * (
        0.7 * _smooth_noise(keys, _S_TEXTURE, 5, size) + 0.3 * _smooth_noise(keys, _S_TEXTURE + 1, 23, size)
    )[:, 0]
    centre_d2 = (gx - 0.5) ** 2 + (gy - 0.5) ** 2  # the source-sink midpoint is the centre
    macula_sigma2 = float(params["macula_radius"]) ** 2
    shade *= 1 - float(params["macula_darkening"]) * torch.exp(-centre_d2 / (2 * macula_sigma2))
    shade *= (1 - float(params["vignetting"]) * centre_d2 / float(params["fov_radius"]) ** 2) * fov

    tint = rng.normal(keys[:, None], _S_TINT, np.arange(3)) * float(params["tint_jitter"])
    base = torch.tensor(params["background_rgb"], dtype=torch.float32) * (1 + torch.from_numpy(tint).float())
    source = torch.from_numpy(coverage.tree.source).to(torch.float32)
    disc_d2 = (gx - source[:, 0, None, None]) ** 2 + (gy - source[:, 1, None, None]) ** 2
    disc = _blob(disc_d2, float(params["disc_radius"]))[:, None]
    disc_rgb = torch.tensor(params["disc_rgb"], dtype=torch.float32)[None, :, None, None]
    image = base[:, :, None, None] * (1 - disc) + disc_rgb * disc

    # Blurring the vessel layers (not the smooth background) is the optics' main effect.
    sigma = float(params["blur"]) * size
    opacity = float(params["vessel_opacity"])
    for cov, rgb in ((coverage.vein, params["vein_rgb"]), (coverage.artery, params["artery_rgb"])):
        alpha = opacity * _gaussian_blur(cov[:, None], sigma)
        image.mul_(1 - alpha).add_(torch.tensor(rgb, dtype=torch.float32)[None, :, None, None] * alpha)

    image.mul_(shade[:, None])
    image.add_(float(params["noise_std"]) * rng.torch_normal(rng.combine(keys, _S_NOISE), (3, size, size)))
    image.mul_(fov)
    return torch.round(image.clamp_(0, 1).mul_(255)).to(torch.uint8)


FUNDUS = Variant(
    name="rw-fundus",
    version="2",  # 2: twins bow their healthy stretches (twin_ink)
    description=(
        "The rw-classic geometry painted as a fundus photograph: textured orange-red "
        "background, optic disc, macula, arteries and veins, circular field of view, "
        "vignetting, blur and sensor noise."
    ),
    defaults=FUNDUS_WALK | FUNDUS_PAINT_DEFAULTS | PAIRING_DEFAULTS,
    paint=paint_fundus,
    field_of_view=field_of_view,
    reports_kinds=True,
    paints_kinds=True,
)
