"""Every registered metric passes the same conformance kit (the registry is the matrix)."""

from __future__ import annotations

import re

from ropbench.registry import get_registry
from ropbench.testing.metric_contract import MetricContract

# Small, fast settings for the model-running metrics.
_PARAMS = {"deletion-auc": {"steps": 4}, "insertion-auc": {"steps": 4}}
# The mask-free study check needs skeleton branches of 10 px inside the top and bottom
# 10% of a map: the kit's 16-px random maps have none (its own tests cover it).
_OVERRIDES = {
    "attention-tortuosity-contrast": {"reads_target": False, "defined_on_kit_inputs": False},
}


def _class_name(metric_name: str) -> str:
    return "Test_" + re.sub(r"\W", "_", metric_name)


for _name in get_registry().metrics:
    globals()[_class_name(_name)] = type(
        _class_name(_name),
        (MetricContract,),
        {
            "metric_name": _name,
            "params": _PARAMS.get(_name, {}),
            "batch_tolerance": 1e-5,
            **_OVERRIDES.get(_name, {}),
        },
    )
