"""Built-in explainers: the CAM family, captum's gradient family, the ViT family and
model-independent controls. Registered like any third-party plugin."""

from __future__ import annotations

from ropbench import hookimpl
from ropbench.specs import ExplainerSpec

__all__ = ["ropbench_register_explainers"]


@hookimpl
def ropbench_register_explainers() -> list[ExplainerSpec]:
    """Every built-in explainer spec."""
    # Imported here so that loading the plugin (e.g. for ``ropbench plugins list``)
    # does not import captum until explainers are asked for.
    from ropbench_plugins.explainers import cam, controls, gradients, rollout, scorecam

    return cam.specs() + scorecam.specs() + gradients.specs() + rollout.specs() + controls.specs()
