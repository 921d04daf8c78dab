"""Model-independent control heatmaps: the scale every localization score is read on.

A localization score means something only beside maps that know nothing about the
disease (below) and the map that knows everything (above). All are ``control=True``.

- ``random``: uniform noise; what a method that knows nothing scores (chance).
- ``vessel-map``: the indicator of the vessel pixels (:func:`ropbench.vessels.vessel_pixels`),
  not the raw coverage. On purpose: the prior-controlled metrics rank heat *among*
  exactly these pixels, where this map is constant, so it scores exactly their chance
  level; on whole-image metrics it is what any vessel detector scores for free.
- ``vessel-map-pooled``: the same indicator averaged over a coarse grid (by default the
  model's native explanation grid) and upsampled back: the fair vessel prior for a 7x7
  CAM or a 14x14 ViT patch map, which cannot draw a one-pixel vessel.
- ``oracle``: the ground truth itself, the upper reference: 2 on tortuous vessel pixels,
  1 elsewhere in the localization target, 0 outside; optionally pooled like
  ``vessel-map-pooled`` so that a coarse explainer meets an oracle at its own resolution.
- ``sobel``: Sobel gradient magnitude of the grey input, the score of "look at edges".
"""

from __future__ import annotations

import hashlib
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ropbench import hookimpl
from ropbench.explaining import any_model, explanation_grid, upsample_maps
from ropbench.specs import ExplainContext, ExplainerSpec
from ropbench.vessels import vessel_pixels

__all__ = ["ropbench_register_explainers", 
    "image_seeds",
    "pool_to_grid",
    "explain_random",
    "explain_vessel_map",
    "explain_vessel_map_pooled",
    "explain_oracle",
    "explain_sobel",
    "specs",
]

Grid = int | Sequence[int]


def image_seeds(images: torch.Tensor, seed: int) -> list[int]:
    """One 63-bit seed per image from the explainer seed and the image's bytes.

    Keyed by content rather than batch position, so an image gets the same random map
    whether it is explained alone or inside any batch, while different images get
    different maps (one shared map would correlate every image's score).
    """
    pixels = images.detach().to("cpu", torch.float32).contiguous().numpy()
    seeds = []
    for image in pixels:
        digest = hashlib.sha256(str(int(seed)).encode() + image.tobytes()).digest()
        seeds.append(int.from_bytes(digest[:8], "little") >> 1)
    return seeds


def pool_to_grid(maps: torch.Tensor, grid: tuple[int, int], size: tuple[int, int]) -> torch.Tensor:
    """[N, h, w] averaged over a ``grid`` of cells, then back to ``size``, float32 [N, H, W].

    Adaptive average pooling, so a grid that does not divide the map gets cells of
    ``floor`` / ``ceil`` sizes (PyTorch's ``adaptive_avg_pool2d``); upsampling is
    :func:`ropbench.explaining.upsample_maps`, as the CAMs' own.
    """
    pooled = F.adaptive_avg_pool2d(maps[:, None].to(torch.float32), grid)[:, 0]
    return upsample_maps(pooled, size)


def _grid_shape(grid: Grid, control: str) -> tuple[int, int]:
    shape = (grid, grid) if isinstance(grid, int) else tuple(grid) if isinstance(grid, (list, tuple)) else ()
    if len(shape) != 2 or any(isinstance(side, bool) or not isinstance(side, int) for side in shape):
        raise ValueError(f"the {control} control's grid must be an int or [rows, cols], got {grid!r}")
    rows, cols = shape
    if rows < 0 or cols < 0 or (rows == 0) != (cols == 0):
        raise ValueError(f"the {control} control's grid must be 0 or positive, got {grid!r}")
    return rows, cols


def _plane(context: ExplainContext, field: str, images: torch.Tensor, control: str) -> torch.Tensor:
    """``context.<field>`` for these images, float32 at input resolution on their device."""
    plane = getattr(context, field)
    if plane is None:
        raise ValueError(f"the {control} control needs ExplainContext.{field}, which this call lacks")
    if plane.ndim != 3 or plane.shape[0] != images.shape[0]:
        raise ValueError(
            f"the {control} control got ExplainContext.{field} of shape {tuple(plane.shape)} "
            f"for {images.shape[0]} images; expected [N, H, W]"
        )
    return upsample_maps(plane.to(images.device, torch.float32), images.shape[-2:])


def explain_random(model: nn.Module, images: torch.Tensor, targets: torch.Tensor, context: ExplainContext,
                   *, grid: int = 0) -> torch.Tensor:
    """Uniform [0, 1) noise, seeded per image: one value per pixel (``grid = 0``), or a
    ``grid`` x ``grid`` field upsampled bilinearly, a *smooth* random map whose blobs are
    the size of a coarse explainer's cells.

    The smooth map exists for the mask-free ``attention-tortuosity-contrast``: per-pixel
    noise has no region that holds a vessel branch, so it is NaN there. Any noise field u
    is distributed as 1 - u, which mirrors every rank-based score about its midpoint, so
    the smooth map's expected score is still 1/2 on the AUROC-like metrics.
    """
    size = tuple(images.shape[-2:])
    shape = size if grid <= 0 else (int(grid), int(grid))
    # One small draw per image: the per-image generator is what makes the map
    # independent of the batch it arrives in.
    maps = [torch.rand(shape, generator=torch.Generator().manual_seed(s)) for s in image_seeds(images, context.seed)]
    return upsample_maps(torch.stack(maps), size).to(images.device)


def explain_vessel_map(model: nn.Module, images: torch.Tensor, targets: torch.Tensor, context: ExplainContext) -> torch.Tensor:
    """1 on vessel pixels (:func:`ropbench.vessels.vessel_pixels` of ``context.vessels``),
    0 elsewhere.

    The indicator, not the coverage: it is constant on the vessel pixels among which the
    prior-controlled metrics rank heat, so on those metrics it scores exactly chance.
    A plane at another resolution is resampled bilinearly before thresholding.
    """
    return vessel_pixels(_plane(context, "vessels", images, "vessel-map")).to(torch.float32)


def explain_vessel_map_pooled(
    model: nn.Module, images: torch.Tensor, targets: torch.Tensor, context: ExplainContext, *, grid: Grid = 0
) -> torch.Tensor:
    """The ``vessel-map`` indicator averaged over a ``grid`` (rows = cols = ``grid``, or
    ``[rows, cols]``) and upsampled back bilinearly.

    ``grid = 0``: the model's native explanation grid at this input size
    (:func:`ropbench.explaining.explanation_grid`: a ViT's token grid, a CNN's
    target-layer output size).
    """
    indicator = vessel_pixels(_plane(context, "vessels", images, "vessel-map-pooled")).to(torch.float32)
    shape = _grid_shape(grid, "vessel-map-pooled")
    if shape == (0, 0):
        try:
            shape = explanation_grid(model, images.shape[-2:])
        except ValueError as error:
            raise ValueError(f"vessel-map-pooled with grid = 0 needs the model's native grid: {error}; "
                             "set the control's grid parameter") from None
    return pool_to_grid(indicator, shape, images.shape[-2:])


def explain_oracle(
    model: nn.Module, images: torch.Tensor, targets: torch.Tensor, context: ExplainContext, *, grid: Grid = 0
) -> torch.Tensor:
    """``context.masks + context.tortuous_vessels``: 2 on tortuous vessel pixels, 1
    elsewhere in the localization target, 0 outside. The upper reference: it ranks the
    tortuous vessels first among vessel pixels and the target region first overall.

    ``grid > 0`` (or ``[rows, cols]``): pooled to that grid and upsampled back, as
    ``vessel-map-pooled``; ``grid = 0``: full resolution.
    """
    truth = _plane(context, "masks", images, "oracle") + _plane(context, "tortuous_vessels", images, "oracle")
    shape = _grid_shape(grid, "oracle")
    return truth if shape == (0, 0) else pool_to_grid(truth, shape, images.shape[-2:])


_SOBEL_ROWS = torch.tensor([[1.0, 2.0, 1.0], [0.0, 0.0, 0.0], [-1.0, -2.0, -1.0]])


def explain_sobel(model: nn.Module, images: torch.Tensor, targets: torch.Tensor, context: ExplainContext) -> torch.Tensor:
    """Sobel gradient magnitude of the channel-mean image (replicate padding)."""
    grey = images.detach().to(torch.float32).mean(dim=1, keepdim=True)
    kernels = torch.stack([_SOBEL_ROWS, _SOBEL_ROWS.T])[:, None].to(grey.device)
    gradients = F.conv2d(F.pad(grey, (1, 1, 1, 1), mode="replicate"), kernels)
    return gradients.pow(2).sum(dim=1).sqrt()


def specs() -> list[ExplainerSpec]:
    def control(name: str, explain, version: str, params: dict, description: str) -> ExplainerSpec:
        return ExplainerSpec(name=name, explain=explain, supports=any_model, version=version, params=params,
                             description=description, control=True)

    return [
        control("random", explain_random, "1", {"grid": 0},
                "Control: seeded uniform noise per pixel, or smooth on a grid x grid field (chance level)."),
        control("vessel-map", explain_vessel_map, "2", {},
                "Control: 1 on vessel pixels, 0 elsewhere (chance on the prior-controlled metrics)."),
        control("vessel-map-pooled", explain_vessel_map_pooled, "1", {"grid": 0},
                "Control: the vessel indicator pooled to the model's explanation grid (or grid x grid)."),
        control("oracle", explain_oracle, "1", {"grid": 0},
                "Control: the ground truth (2 tortuous vessel, 1 target region, 0 outside), the upper reference."),
        control("sobel", explain_sobel, "1", {}, "Control: Sobel edge magnitude of the input."),
    ]


@hookimpl
def ropbench_register_explainers() -> list[ExplainerSpec]:
    return specs()
