"""ropbench-example-plugin: registers the ``gradient-magnitude-blur`` explainer.

ropbench finds this module through the ``ropbench`` entry point in pyproject.toml and
calls the hook below exactly as it calls its built-in plugins.
"""

from __future__ import annotations

from ropbench import hookimpl
from ropbench.specs import ExplainerSpec

from ropbench_example_plugin.gradient_blur import DEFAULT_SIGMA_FRACTION, gradient_magnitude_blur

__all__ = ["ropbench_register_explainers", "gradient_magnitude_blur"]
__version__ = "0.1.0"


def _any_model(model: object) -> bool:
    # Input gradients exist for every differentiable classifier, CNN or ViT.
    return True


@hookimpl
def ropbench_register_explainers() -> list[ExplainerSpec]:
    return [
        ExplainerSpec(
            name="gradient-magnitude-blur",
            explain=gradient_magnitude_blur,
            supports=_any_model,
            version="1",
            params={"sigma_fraction": DEFAULT_SIGMA_FRACTION},
            description="|d logit / d input| (max over channels), Gaussian-blurred at the "
            "ground-truth margin (1/60 of the side).",
        )
    ]
