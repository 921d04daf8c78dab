"""The plugin proves it honours ropbench's contracts by subclassing the kit."""

from __future__ import annotations

from ropbench.testing import ExplainerContract, GeneratorContract, MetricContract


class TestSineLinesContract(GeneratorContract):
    generator_name = "sine-lines"


class TestGradientMagnitudeBlurContract(ExplainerContract):
    explainer_name = "gradient-magnitude-blur"
    architecture_names = ("seed-cnn", "gap-cnn", "vit_tiny_patch16")


class TestPlainGradientMagnitudeContract(ExplainerContract):
    """The sigma = 0 limit (no blur) honours the contract too."""

    explainer_name = "gradient-magnitude-blur"
    architecture_names = ("seed-cnn",)
    params = {"sigma_fraction": 0.0}


class TestHottestPixelContract(MetricContract):
    metric_name = "hottest-pixel-on-tortuous"
