"""Expanding a suite into the stage graph.

generators x seeds -> data; x architectures -> train, and a classification score;
x explainers -> explain, and a heatmap score. Each task's key is the content address of
its inputs (:mod:`ropbench.tasks`), so two suites that share a stage share its cache
entry, and a task whose inputs did not change is never recomputed. Explainer /
architecture pairs that do not apply are listed with the reason, not dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from ropbench.registry import Registry
from ropbench.suite import Entry, Suite
from ropbench.tasks import (
    NUM_CLASSES,
    CellLabels,
    DataTask,
    ExplainTask,
    PluginRef,
    ScoreTask,
    SplitCounts,
    StageTask,
    TrainTask,
)

if TYPE_CHECKING:
    from torch import nn

__all__ = ["UnsupportedPair", "Plan", "build_plan", "plugin_ref"]


@dataclass(frozen=True)
class UnsupportedPair:
    """An (architecture, explainer) pair the suite names but that does not apply."""

    generator: str
    architecture: str
    explainer: str
    reason: str


@dataclass
class Plan:
    """The topologically ordered tasks of a suite, and the pairs left out."""

    tasks: list[StageTask] = field(default_factory=list)
    unsupported: list[UnsupportedPair] = field(default_factory=list)
    # Labels of the suite's reference entries: explainers that do not explain the model
    # (random, vessel maps, oracle) and classifiers that are controls (the shortcut probe).
    control_explainers: list[str] = field(default_factory=list)
    control_architectures: list[str] = field(default_factory=list)
    # Architecture entries not run at all, and why (label -> reason).
    unavailable: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._keys: set[str] = {task.key for task in self.tasks}

    def add(self, task: StageTask) -> None:
        """Append ``task`` unless a task with its key is already planned (shared stages)."""
        if task.key not in self._keys:
            self.tasks.append(task)
            self._keys.add(task.key)

    def score_tasks(self) -> list[ScoreTask]:
        return [task for task in self.tasks if isinstance(task, ScoreTask)]


def plugin_ref(registry: Registry, family: str, entry: Entry) -> PluginRef:
    """The identity of a suite entry: its plugin's name, version and output-determining
    parameters (execution-only ones removed)."""
    spec = registry.table(family).get(entry.name)
    keyed = spec.identity_params(entry.params)
    return PluginRef(entry.name, entry.version, keyed,
                     {k: v for k, v in entry.params.items() if k not in keyed})


def _inspection_model(registry: Registry, entry: Entry, image_size: int) -> "nn.Module":
    """A model to ask ``supports()`` and its family: built on the meta device, so nothing is
    allocated and no weights file is read."""
    import torch

    spec = registry.architectures.get(entry.name)
    params = {k: v for k, v in entry.params.items() if k not in ("weights", "pretrained")}
    try:
        with torch.device("meta"):
            return spec.build(NUM_CLASSES, image_size, **params)
    except (NotImplementedError, RuntimeError):  # builders that touch real storage
        return spec.build(NUM_CLASSES, image_size, **params)


def unavailable_reason(entry: Entry) -> str | None:
    """Why an architecture entry cannot run here, or None. An entry asking for pretrained
    weights without a local weights file is skipped (no model hub is ever contacted): the
    paper suite lists the study's ImageNet ViT this way, for machines that have the file."""
    if entry.params.get("pretrained") and not entry.params.get("weights"):
        return (f"{entry.name} asks for pretrained weights but names no local weights file "
                f"(set params.weights to a .pth/.safetensors path); not run")
    return None


def _support_table(suite: Suite, registry: Registry, plan: Plan) -> dict[tuple[str, str], str | None]:
    """(architecture label, explainer label) -> None when supported, else the reason;
    records the control classifiers (family ``probe``) on ``plan``."""
    from ropbench.modelinfo import MissingModelInfoError, model_info

    reasons: dict[tuple[str, str], str | None] = {}
    for architecture in suite.architectures:
        if unavailable_reason(architecture):
            continue
        model = _inspection_model(registry, architecture, suite.image_size)
        try:
            family = model_info(model).family
        except MissingModelInfoError:
            family = None
        if family == "probe":
            plan.control_architectures.append(architecture.label)
        for explainer in suite.explainers:
            spec = registry.explainers.get(explainer.name)
            if family == "probe":
                reason: str | None = f"{architecture.name} is a control classifier without heatmaps"
            elif not spec.supports(model):
                reason = f"{explainer.name} does not support {architecture.name}"
            else:
                reason = None
            reasons[(architecture.label, explainer.label)] = reason
        del model
    return reasons


def build_plan(suite: Suite, registry: Registry) -> Plan:
    """The topologically ordered tasks of ``suite``."""
    plan = Plan()
    classification = tuple(plugin_ref(registry, "metric", m) for m in suite.metrics
                           if registry.metrics.get(m.name).kind == "classification")
    heatmap_metrics = tuple(plugin_ref(registry, "metric", m) for m in suite.metrics
                            if registry.metrics.get(m.name).kind != "classification")
    plan.unavailable = {a.label: reason for a in suite.architectures if (reason := unavailable_reason(a))}
    reasons = _support_table(suite, registry, plan)
    plan.control_explainers = [e.label for e in suite.explainers if registry.explainers.get(e.name).control]
    counts = SplitCounts(suite.data.train, suite.data.val, suite.data.test)
    resamples = suite.scoring.bootstrap_resamples

    for generator in suite.generators:
        spec = registry.generators.get(generator.name)
        fingerprint = spec.fingerprint(**generator.params) if spec.fingerprint else None
        for seed in suite.seeds:
            data = DataTask(cell=CellLabels(generator.label, seed=seed),
                            generator=plugin_ref(registry, "generator", generator), source=spec.source,
                            fingerprint=fingerprint, image_size=suite.image_size, counts=counts, seed=seed)
            plan.add(data)
            for architecture in suite.architectures:
                if architecture.label in plan.unavailable:
                    continue
                cell = CellLabels(generator.label, architecture.label, seed=seed)
                model = TrainTask(cell=cell, data=data, architecture=plugin_ref(registry, "architecture", architecture),
                                  training=replace(suite.training, **dict(architecture.training)),
                                  image_size=suite.image_size, seed=seed)
                plan.add(model)
                if classification:
                    plan.add(ScoreTask(cell=cell, model=model, heatmaps=None, metrics=classification,
                                       bootstrap_resamples=resamples))
                for explainer in suite.explainers:
                    reason = reasons[(architecture.label, explainer.label)]
                    if reason is not None:
                        plan.unsupported.append(UnsupportedPair(generator.label, architecture.label,
                                                                explainer.label, reason))
                        continue
                    explained = replace(cell, explainer=explainer.label)
                    heatmaps = ExplainTask(cell=explained, model=model,
                                           explainer=plugin_ref(registry, "explainer", explainer),
                                           target=suite.scoring.target, max_explained=suite.scoring.max_explained,
                                           batch_size=suite.scoring.explain_batch_size)
                    plan.add(heatmaps)
                    if heatmap_metrics:
                        plan.add(ScoreTask(cell=explained, model=model, heatmaps=heatmaps, metrics=heatmap_metrics,
                                           bootstrap_resamples=resamples))
    return plan
