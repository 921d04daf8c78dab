"""Which rows of a run are controls, and what the controls score.

Controls are references, not explanations or models: the random map (floor), the vessel
map (the vessel prior) and its pooled form, the oracle (ceiling), and the shortcut probe
on the classification side. A run's manifest lists their labels (``controls``) and maps
every label to its plugin (``suite.explainers``); the role of a control is its plugin.
Torch-free.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

import pandas as pd

__all__ = [
    "Controls", "control_mean", "vessel_prior_score", "RANDOM_MAP", "VESSEL_PRIOR", "POOLED_PRIOR", "ORACLE",
    "EXPECTED_CONTROLS", "SHORTCUT_PROBE", "CONTROL_MARK", "ALL_ARCHITECTURES",
]

# Registry names of the controls (labels may differ; the manifest maps label -> name).
RANDOM_MAP, VESSEL_PRIOR, POOLED_PRIOR, ORACLE = "random", "vessel-map", "vessel-map-pooled", "oracle"
EXPECTED_CONTROLS = (RANDOM_MAP, VESSEL_PRIOR, POOLED_PRIOR, ORACLE)  # DESIGN: every board carries these
SHORTCUT_PROBE = "shortcut-probe"
# How a run without a manifest "controls" record (hand-made, or older) recognises them.
BUILTIN_CONTROL_EXPLAINERS = frozenset({*EXPECTED_CONTROLS, "sobel"})
BUILTIN_CONTROL_ARCHITECTURES = frozenset({SHORTCUT_PROBE})
CONTROL_MARK = " (control)"
ALL_ARCHITECTURES = "all architectures"

@dataclass(frozen=True)
class Controls:
    """Which explainer and architecture labels of a run are references, not explanations
    or models, and which plugin each label runs (the role of a control is its plugin)."""

    explainer_names: Mapping[str, str] = field(default_factory=dict)
    architecture_names: Mapping[str, str] = field(default_factory=dict)
    declared_explainers: frozenset[str] | None = None  # None: the run did not record them
    declared_architectures: frozenset[str] | None = None

    @classmethod
    def from_manifest(cls, manifest: Mapping[str, Any]) -> "Controls":
        suite = manifest.get("suite") or {}

        def names(family: str) -> dict[str, str]:
            return {str(e["label"]): str(e["name"]) for e in suite.get(family) or []
                    if isinstance(e, Mapping) and "label" in e and "name" in e}

        declared = manifest.get("controls")
        if not isinstance(declared, Mapping):
            return cls(names("explainers"), names("architectures"))
        return cls(names("explainers"), names("architectures"),
                   frozenset(str(e) for e in declared.get("explainers") or []),
                   frozenset(str(a) for a in declared.get("architectures") or []))

    def explainer_name(self, label: str) -> str:
        return self.explainer_names.get(label, label)

    def is_control_explainer(self, label: str) -> bool:
        if self.declared_explainers is not None:
            return label in self.declared_explainers
        return self.explainer_name(label) in BUILTIN_CONTROL_EXPLAINERS

    def is_control_architecture(self, label: str) -> bool:
        if self.declared_architectures is not None:
            return label in self.declared_architectures
        return self.architecture_names.get(label, label) in BUILTIN_CONTROL_ARCHITECTURES

    def labels_of(self, name: str, labels: Iterable[str]) -> list[str]:
        """The control explainers among ``labels`` that run the plugin ``name``."""
        return [label for label in labels if self.is_control_explainer(label) and self.explainer_name(label) == name]

    def reference_rank(self, label: str) -> int:
        """Controls are listed floor to ceiling: random, vessel map, pooled, oracle, others."""
        name = self.explainer_name(label)
        return EXPECTED_CONTROLS.index(name) if name in EXPECTED_CONTROLS else len(EXPECTED_CONTROLS)


def control_mean(summary: pd.DataFrame, controls: Controls, name: str, metric: str) -> float:
    """Mean over the rows (architectures) of the control plugin ``name`` on ``metric`` (NaN
    when absent). The controls here are model-free, so every architecture sees one value."""
    labels = controls.labels_of(name, {str(e) for e in summary["explainer"]})
    chosen = summary[(summary["metric"] == metric) & summary["explainer"].isin(labels)]["mean"]
    return float(chosen.mean()) if chosen.notna().any() else float("nan")


def vessel_prior_score(summary: pd.DataFrame, controls: Controls, metric: str) -> float:
    """The vessel-map control's score on ``metric``: what a map that only knows where the
    vessels are gets for free."""
    return control_mean(summary, controls, VESSEL_PRIOR, metric)
