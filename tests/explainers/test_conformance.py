"""Every registered explainer honours the ExplainerSpec contract on every small
architecture it supports (the registry is the test matrix)."""

from __future__ import annotations

from ropbench.registry import get_registry
from ropbench.testing.explainer_contract import ExplainerContract

# Parameters that only shrink the work (fewer samples, steps, windows) for a fast run.
FAST_PARAMS = {
    "smoothgrad": {"samples": 2},
    "integrated-gradients": {"steps": 4},
    "occlusion": {"window_fraction": 0.25, "stride_fraction": 0.25},
}


def _contract_class(name: str) -> type:
    return type(
        "Test_" + name.replace("-", "_"),
        (ExplainerContract,),
        {"explainer_name": name, "params": FAST_PARAMS.get(name, {})},
    )


for _name in get_registry().explainers:
    globals()["Test_" + _name.replace("-", "_")] = _contract_class(_name)
