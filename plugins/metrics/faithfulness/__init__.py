"""Faithfulness metrics: does perturbing what the heatmap highlights change the output?

Deletion / insertion AUC (Petsiuk et al., RISE) and the CAM metrics of Chattopadhay et
al. and Poppi et al. used by Thota et al. (average drop, average increase, coherency,
complexity, ADCC).
"""

from ropbench import hookimpl
from ropbench.specs import MetricSpec
from ropbench_plugins.metrics.faithfulness.confidence import confidence_specs
from ropbench_plugins.metrics.faithfulness.deletion_insertion import deletion_insertion_specs

__all__ = ["ropbench_register_metrics", "faithfulness_specs"]


def faithfulness_specs() -> list:
    """Every faithfulness metric spec."""
    return [*deletion_insertion_specs(), *confidence_specs()]


@hookimpl
def ropbench_register_metrics() -> list[MetricSpec]:
    return faithfulness_specs()
