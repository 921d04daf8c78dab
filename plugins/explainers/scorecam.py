"""Score-CAM (Wang et al. 2020), batched across images and channels.

Each target-layer map is upsampled, min-max normalised and used as a soft mask on the
input; the target logit of the masked input, softmaxed over channels, weights the maps.
All (image, channel) pairs of the batch are flattened into one queue and run through
the model in chunks of ``batch_size`` under inference mode, channels-last (about twice
as fast as NCHW on CPU with oneDNN). ``precision="bfloat16"`` runs the masked forwards
under autocast: faster where the CPU or GPU has bfloat16 units, slightly different
scores, so it is a separate cell identity and not the default.

The masked forwards run on a copy of the model with every convolution+batch-norm pair
folded into one convolution (``torch.fx.experimental.optimization.fuse``; batch norm in
eval mode is affine, so this changes results only in the last float bits); models that
torch.fx cannot trace run as they are.

A constant map normalises to an all-zero mask, whatever the image: its masked input is
the zero tensor, so one forward pass scores every constant channel of every image
(dead ReLU channels are common in trained CNNs).
"""

from __future__ import annotations

import torch
from torch import nn

from ropbench import hookimpl
from ropbench.explaining import explaining, forward_channels_last, is_cnn, target_scores, upsample_maps
from ropbench.specs import ExplainContext, ExplainerSpec
from ropbench_plugins.explainers.cam_weights import weighted_sum
from ropbench_plugins.explainers.feature_maps import layer_features

__all__ = ["ropbench_register_explainers", "masked_input_scores", "explain_scorecam", "specs"]

_EPS = 1e-8  # as pytorch-grad-cam's normalisation
PRECISIONS = {"float32": None, "bfloat16": torch.bfloat16}


def _folded_copy(model: nn.Module) -> nn.Module:
    """The model with conv+BN folded (eval mode), or the model itself if untraceable."""
    from torch.fx.experimental.optimization import fuse

    try:
        return fuse(model)
    except Exception:  # any tracing failure: folding is an optimisation, not a requirement
        return model


def _forward(model: nn.Module, inputs: torch.Tensor, precision: str) -> torch.Tensor:
    autocast_dtype = PRECISIONS[precision]
    if autocast_dtype is None:
        return forward_channels_last(model, inputs)
    with torch.autocast(inputs.device.type, dtype=autocast_dtype):
        return forward_channels_last(model, inputs).to(torch.float32)


def masked_input_scores(
    model: nn.Module,
    images: torch.Tensor,
    targets: torch.Tensor,
    activations: torch.Tensor,
    batch_size: int,
    precision: str = "float32",
) -> torch.Tensor:
    """Target logit of every image masked by every normalised, upsampled map: [N, C]."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {sorted(PRECISIONS)}, got {precision!r}")
    n, c, h, w = activations.shape
    size = (images.shape[-2], images.shape[-1])
    flat = activations.reshape(n * c, h, w)
    low, high = flat.amin(dim=(1, 2)), flat.amax(dim=(1, 2))
    varying = (high > low).nonzero().flatten()
    scores = torch.empty(n * c, dtype=torch.float32, device=images.device)

    constant = (high <= low).nonzero().flatten()
    if constant.numel():
        zero_logits = _forward(model, torch.zeros_like(images[:1]), precision)
        scores[constant] = zero_logits[0, targets[constant // c]].to(torch.float32)

    for chunk in varying.split(max(1, int(batch_size))):
        masks = upsample_maps(flat[chunk], size)
        lows = masks.amin(dim=(1, 2), keepdim=True)
        highs = masks.amax(dim=(1, 2), keepdim=True)
        masks = (masks - lows) / (highs - lows + _EPS)
        image_index = chunk // c
        masked = images[image_index] * masks[:, None].to(images.dtype)
        scores[chunk] = target_scores(_forward(model, masked, precision), targets[image_index]).to(torch.float32)
    return scores.view(n, c)


def explain_scorecam(
    model: nn.Module,
    images: torch.Tensor,
    targets: torch.Tensor,
    context: ExplainContext,
    *,
    batch_size: int = 16,
    precision: str = "float32",
) -> torch.Tensor:
    """Score-CAM heatmaps [N, H, W]; ``batch_size`` masked images per forward pass."""
    with explaining(model):
        scorer = _folded_copy(model)
        with torch.inference_mode():
            activations = layer_features(model, images, targets, with_gradients=False).activations
            scores = masked_input_scores(scorer, images, targets, activations, batch_size, precision)
        maps = weighted_sum(scores.softmax(dim=1).to(activations.dtype), activations).relu()
    return upsample_maps(maps.clone(), images.shape[-2:])


def specs() -> list[ExplainerSpec]:
    return [
        ExplainerSpec(
            name="scorecam",
            explain=explain_scorecam,
            supports=is_cnn,
            version="1",
            params={"batch_size": 16, "precision": "float32"},
            execution_params=frozenset({"batch_size"}),  # chunking only; precision changes scores
            description="Score-CAM: maps weighted by the softmaxed target logit of the input they mask.",
        )
    ]


@hookimpl
def ropbench_register_explainers() -> list[ExplainerSpec]:
    return specs()
