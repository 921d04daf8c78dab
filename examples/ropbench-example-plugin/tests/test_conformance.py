"""The plugin proves it honours ropbench's explainer contract by subclassing the kit."""

from __future__ import annotations

from ropbench.testing import ExplainerContract


class TestGradientMagnitudeBlurContract(ExplainerContract):
    explainer_name = "gradient-magnitude-blur"
    architecture_names = ("seed-cnn", "gap-cnn", "vit_tiny_patch16")


class TestPlainGradientMagnitudeContract(ExplainerContract):
    """The sigma = 0 limit (no blur) honours the contract too."""

    explainer_name = "gradient-magnitude-blur"
    architecture_names = ("seed-cnn",)
    params = {"sigma_fraction": 0.0}
