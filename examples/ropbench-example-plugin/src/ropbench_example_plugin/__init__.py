"""ropbench-example-plugin: one generator, one explainer and one metric.

ropbench finds this module through the ``ropbench`` entry point in pyproject.toml and
calls the hooks below exactly as it calls its built-in plugins.
"""

from __future__ import annotations

from ropbench import hookimpl
from ropbench.explaining import any_model
from ropbench.specs import ExplainerSpec, GeneratorSpec, MetricSpec

from ropbench_example_plugin.gradient_blur import DEFAULT_SIGMA_FRACTION, gradient_magnitude_blur
from ropbench_example_plugin.hottest_pixel import hottest_pixel_chance, hottest_pixel_on_tortuous
from ropbench_example_plugin.sine_lines import generate_sine_lines

__all__ = ["ropbench_register_explainers", "ropbench_register_generators", "ropbench_register_metrics",
           "gradient_magnitude_blur"]
__version__ = "0.2.0"


@hookimpl
def ropbench_register_generators() -> list[GeneratorSpec]:
    return [GeneratorSpec(
        name="sine-lines", generate=generate_sine_lines, params={"amplitude": 0.03},
        description="Four straight vessels from the centre; in ROP images two wiggle as sine waves.",
    )]


@hookimpl
def ropbench_register_explainers() -> list[ExplainerSpec]:
    return [
        ExplainerSpec(
            name="gradient-magnitude-blur",
            explain=gradient_magnitude_blur,
            # Input gradients exist for every differentiable classifier, CNN or ViT.
            supports=any_model,
            params={"sigma_fraction": DEFAULT_SIGMA_FRACTION},
            description="|d logit / d input| (max over channels), Gaussian-blurred at the "
            "ground-truth margin (1/60 of the side).",
        )
    ]


@hookimpl
def ropbench_register_metrics() -> list[MetricSpec]:
    return [MetricSpec(
        name="hottest-pixel-on-tortuous", kind="localization", higher_is_better=True,
        compute=hottest_pixel_on_tortuous, chance=hottest_pixel_chance,
        description="Share of the map's hottest pixels that are tortuous vessel pixels (ties shared).",
    )]
