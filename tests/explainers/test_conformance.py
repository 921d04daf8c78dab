"""Every registered explainer honours the ExplainerSpec contract on every small
architecture it supports (the registry is the test matrix). The controls included:
the kit's ExplainContext carries the vessel plane, the target masks and the tortuous
vessel pixels, and the CNN/ViT models give ``vessel-map-pooled`` its native grid."""

from __future__ import annotations

from ropbench.registry import get_registry
from ropbench.testing.explainer_contract import ExplainerContract

# Parameters that only shrink the work (fewer samples, steps, windows) for a fast run.
FAST_PARAMS = {
    "smoothgrad": {"samples": 2},
    "integrated-gradients": {"steps": 4},
    "occlusion": {"window_fraction": 0.25, "stride_fraction": 0.25},
}

# captum refuses an internal batch smaller than the image count (2 here) and quietly
# raises it, so the default second value (1) would test 2: pick 3 instead.
EXECUTION_VALUES = {
    "integrated-gradients": {"internal_batch_size": (64, 3)},
}


def _contract_class(name: str) -> type:
    return type(
        "Test_" + name.replace("-", "_"),
        (ExplainerContract,),
        {
            "explainer_name": name,
            "params": FAST_PARAMS.get(name, {}),
            "execution_param_values": EXECUTION_VALUES.get(name, {}),
        },
    )


for _name in get_registry().explainers:
    globals()["Test_" + _name.replace("-", "_")] = _contract_class(_name)
