"""Every registered metric passes the same conformance kit (the registry is the matrix)."""

from __future__ import annotations

import re

from ropbench.registry import get_registry
from ropbench.testing.metric_contract import MetricContract

# Metrics whose values are not confined to [0, 1].
_BOUNDS = {name: (-1.0, 1.0) for name in get_registry().metrics if name.startswith("randomization-spearman")}
# Small, fast settings for the model-running metrics.
_PARAMS = {"deletion-auc": {"steps": 4}, "insertion-auc": {"steps": 4}}


def _class_name(metric_name: str) -> str:
    return "Test_" + re.sub(r"\W", "_", metric_name)


for _name in get_registry().metrics:
    globals()[_class_name(_name)] = type(
        _class_name(_name),
        (MetricContract,),
        {
            "metric_name": _name,
            "bounds": _BOUNDS.get(_name, (0.0, 1.0)),
            "params": _PARAMS.get(_name, {}),
            "batch_tolerance": 1e-5,
        },
    )
