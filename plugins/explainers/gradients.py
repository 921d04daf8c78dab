"""The input-gradient family, computed by captum (not rewritten here).

captum returns attributions [N, 3, H, W]; a ``reduction`` over colour channels turns
them into heatmaps: ``abs-max`` (Simonyan et al.'s saliency), ``abs-sum`` or ``sum``
(signed, keeps IG's completeness). SmoothGrad draws its noise from a local generator
seeded by ``context.seed`` (captum's NoiseTunnel would use the global RNG), one noise
draw shared by all images so that a batch is explained as its images one by one.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from ropbench import hookimpl
from ropbench.explaining import any_model, explaining, has_relu_modules
from ropbench.specs import ExplainContext, ExplainerSpec

__all__ = ["ropbench_register_explainers", "reduce_channels", "baseline_value", "specs"]

REDUCTIONS = ("abs-max", "abs-sum", "sum", "mean")
# Chunk sizes of captum's batched passes: speed and memory only, never the attribution.
EXECUTION_PARAMS = frozenset({"internal_batch_size", "perturbations_per_eval"})
# Model-input value of each named baseline (see ropbench.imaging.to_model_input).
BASELINES = {"black": -1.0, "grey": 0.0}


def _captum():
    """captum.attr, imported on first use: importing it takes seconds and every CLI
    command registers this plugin."""
    import captum.attr

    return captum.attr


def reduce_channels(attributions: torch.Tensor, reduction: str) -> torch.Tensor:
    """[N, 3, H, W] -> float32 [N, H, W]."""
    if reduction == "abs-max":
        reduced = attributions.abs().amax(dim=1)
    elif reduction == "abs-sum":
        reduced = attributions.abs().sum(dim=1)
    elif reduction == "sum":
        reduced = attributions.sum(dim=1)
    elif reduction == "mean":
        reduced = attributions.mean(dim=1)
    else:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
    return reduced.detach().to(torch.float32)


def baseline_value(baseline: str) -> float:
    try:
        return BASELINES[baseline]
    except KeyError:
        raise ValueError(f"baseline must be one of {sorted(BASELINES)}, got {baseline!r}") from None


def _with_input_grad(
    attribute: Callable[[nn.Module, torch.Tensor, torch.Tensor], torch.Tensor],
) -> Callable[..., torch.Tensor]:
    """Run a captum call on a guarded model with a fresh, grad-requiring input copy."""

    def run(model: nn.Module, images: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        with explaining(model), torch.enable_grad():
            return attribute(model, images.detach().clone().requires_grad_(True), targets)

    return run


def explain_saliency(model, images, targets, context: ExplainContext, *, reduction: str = "abs-max"):
    """Vanilla gradient saliency (Simonyan et al. 2014)."""
    run = _with_input_grad(lambda m, x, t: _captum().Saliency(m).attribute(x, target=t, abs=False))
    return reduce_channels(run(model, images, targets), reduction)


def explain_smoothgrad(
    model, images, targets, context: ExplainContext, *,
    samples: int = 16, noise_level: float = 0.15, reduction: str = "abs-max", internal_batch_size: int = 64,
):
    """SmoothGrad (Smilkov et al. 2017): gradients averaged over seeded noisy copies.

    ``noise_level`` is the noise standard deviation as a fraction of the input range (2).
    """
    generator = torch.Generator(device="cpu").manual_seed(int(context.seed))
    noise = torch.randn((samples, 1) + tuple(images.shape[1:]), generator=generator)
    noise = (noise * noise_level * 2.0).to(images.device, images.dtype)
    noisy = (images.detach()[None] + noise).reshape((-1,) + tuple(images.shape[1:]))  # sample-major
    repeated_targets = targets.repeat(samples)
    saliency = _with_input_grad(lambda m, x, t: _captum().Saliency(m).attribute(x, target=t, abs=False))
    chunks = max(1, int(internal_batch_size))
    gradients = torch.cat([
        saliency(model, noisy[i : i + chunks], repeated_targets[i : i + chunks]) for i in range(0, noisy.shape[0], chunks)
    ])
    per_sample = reduce_channels(gradients, reduction).view(samples, images.shape[0], *images.shape[-2:])
    return per_sample.mean(dim=0)


def explain_integrated_gradients(
    model, images, targets, context: ExplainContext, *,
    steps: int = 32, baseline: str = "black", reduction: str = "abs-sum", internal_batch_size: int = 64,
):
    """Integrated gradients (Sundararajan et al. 2017), Gauss-Legendre steps from a flat baseline."""
    value = baseline_value(baseline)
    run = _with_input_grad(
        lambda m, x, t: _captum().IntegratedGradients(m).attribute(
            x, baselines=value, target=t, n_steps=steps, internal_batch_size=internal_batch_size
        )
    )
    return reduce_channels(run(model, images, targets), reduction)


def explain_input_x_gradient(model, images, targets, context: ExplainContext, *, reduction: str = "abs-sum"):
    """Input x gradient (Shrikumar et al. 2016)."""
    run = _with_input_grad(lambda m, x, t: _captum().InputXGradient(m).attribute(x, target=t))
    return reduce_channels(run(model, images, targets), reduction)


def explain_guided_backprop(model, images, targets, context: ExplainContext, *, reduction: str = "abs-max"):
    """Guided backpropagation (Springenberg et al. 2015) through the model's nn.ReLU modules."""
    run = _with_input_grad(lambda m, x, t: _captum().GuidedBackprop(m).attribute(x, target=t))
    return reduce_channels(run(model, images, targets), reduction)


def explain_occlusion(
    model, images, targets, context: ExplainContext, *,
    window_fraction: float = 0.125, stride_fraction: float = 0.0625, baseline: str = "black",
    perturbations_per_eval: int = 16,
):
    """Occlusion (Zeiler & Fergus 2014): drop in the target logit when a square window is
    set to the baseline; window and stride are fractions of the image side."""
    height, width = images.shape[-2:]
    window = (3, max(1, round(height * window_fraction)), max(1, round(width * window_fraction)))
    strides = (3, max(1, round(height * stride_fraction)), max(1, round(width * stride_fraction)))
    with explaining(model), torch.no_grad():
        attributions = _captum().Occlusion(model).attribute(
            images.detach(), sliding_window_shapes=window, strides=strides, baselines=baseline_value(baseline),
            target=targets, perturbations_per_eval=perturbations_per_eval,
        )
    return reduce_channels(attributions, "mean")


def specs() -> list[ExplainerSpec]:
    def spec(name, explain, params, description, supports=any_model) -> ExplainerSpec:
        return ExplainerSpec(
            name=name, explain=explain, supports=supports, version="1", params=params, description=description,
            execution_params=EXECUTION_PARAMS & frozenset(params),
        )

    return [
        spec("saliency", explain_saliency, {"reduction": "abs-max"}, "Gradient saliency (captum Saliency)."),
        spec("smoothgrad", explain_smoothgrad,
             {"samples": 16, "noise_level": 0.15, "reduction": "abs-max", "internal_batch_size": 64},
             "SmoothGrad: saliency averaged over seeded Gaussian-noised inputs."),
        spec("integrated-gradients", explain_integrated_gradients,
             {"steps": 32, "baseline": "black", "reduction": "abs-sum", "internal_batch_size": 64},
             "Integrated gradients from a flat baseline (captum)."),
        spec("input-x-gradient", explain_input_x_gradient, {"reduction": "abs-sum"}, "Input x gradient (captum)."),
        spec("guided-backprop", explain_guided_backprop, {"reduction": "abs-max"},
             "Guided backpropagation (captum); needs nn.ReLU modules.", supports=has_relu_modules),
        spec("occlusion", explain_occlusion,
             {"window_fraction": 0.125, "stride_fraction": 0.0625, "baseline": "black", "perturbations_per_eval": 16},
             "Occlusion: target-logit drop under a sliding baseline window (captum)."),
    ]


@hookimpl
def ropbench_register_explainers() -> list[ExplainerSpec]:
    return specs()
