"""ropbench's built-in metrics: classification, localization, faithfulness and sanity.

Registered exactly like a third-party plugin. Every module builds its own specs; this
module only gathers them. See docs/metrics.md for definitions and chance levels.
"""

from __future__ import annotations

from ropbench import hookimpl
from ropbench.specs import MetricSpec
from ropbench_plugins.metrics.classification import classification_specs
from ropbench_plugins.metrics.faithfulness import faithfulness_specs
from ropbench_plugins.metrics.pointing import pointing_game_spec
from ropbench_plugins.metrics.relevance import relevance_mass_spec
from ropbench_plugins.metrics.sanity import sanity_specs
from ropbench_plugins.metrics.threshold_free import threshold_free_specs
from ropbench_plugins.metrics.thresholded import percentile_specs, rank_accuracy_spec

__all__ = ["ropbench_register_metrics"]


@hookimpl
def ropbench_register_metrics() -> list[MetricSpec]:
    """Every built-in metric spec."""
    return [
        *classification_specs(),
        *percentile_specs(),
        *threshold_free_specs(),
        relevance_mass_spec(),
        rank_accuracy_spec(),
        pointing_game_spec(),
        *faithfulness_specs(),
        *sanity_specs(),
    ]
