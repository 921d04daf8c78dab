"""Expanding a suite into the stage graph: generators x seeds -> data; x architectures ->
train; x explainers -> explain and score.

Each task's key is the content address of its inputs, so two suites that share a stage
share its cache entry, and a task whose inputs did not change is never recomputed.
Explainer/architecture pairs the explainer does not support are listed, not dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from ropbench.cache import content_key
from ropbench.executing import Task
from ropbench.registry import Registry
from ropbench.suite import Entry, Suite

__all__ = ["Cell", "SkippedPair", "Plan", "build_plan", "NUM_CLASSES", "NO_EXPLAINER"]

NUM_CLASSES = 2
NO_EXPLAINER = "-"  # the explainer column of classification rows


@dataclass(frozen=True)
class Cell:
    """Labels of the row a task's results belong to."""

    generator: str
    architecture: str
    explainer: str
    seed: int


@dataclass(frozen=True)
class SkippedPair:
    generator: str
    architecture: str
    explainer: str
    reason: str


@dataclass
class Plan:
    tasks: list[Task] = field(default_factory=list)
    cells: dict[str, Cell] = field(default_factory=dict)  # task key -> labels
    skipped: list[SkippedPair] = field(default_factory=list)

    def add(self, task: Task, cell: Cell) -> None:
        if task.key not in self.cells:
            self.tasks.append(task)
            self.cells[task.key] = cell


def _training_identity(suite: Suite, architecture: Entry) -> dict[str, Any]:
    from dataclasses import replace

    config = replace(suite.training, **dict(architecture.training))
    return config.identity()


def _build_for_inspection(registry: Registry, entry: Entry, image_size: int) -> torch.nn.Module:
    """A model to ask ``supports()``: on the meta device, so nothing is allocated."""
    spec = registry.architectures.get(entry.name)
    params = {k: v for k, v in entry.params.items() if k not in ("weights", "pretrained")}
    try:
        with torch.device("meta"):
            return spec.build(NUM_CLASSES, image_size, **params)
    except Exception:  # some builders touch real storage; fall back to a CPU build
        return spec.build(NUM_CLASSES, image_size, **params)


def build_plan(suite: Suite, registry: Registry) -> Plan:
    """The topologically ordered tasks of ``suite``."""
    plan = Plan()
    scoring = {
        "target": suite.scoring.target,
        "bootstrap_resamples": suite.scoring.bootstrap_resamples,
        "max_explained": suite.scoring.max_explained,
    }
    classification = [m for m in suite.metrics if registry.metrics.get(m.name).kind == "classification"]
    heatmap_metrics = [m for m in suite.metrics if registry.metrics.get(m.name).kind != "classification"]

    supports: dict[tuple[str, str], bool] = {}
    for architecture in suite.architectures:
        model = None
        for explainer in suite.explainers:
            if model is None:
                model = _build_for_inspection(registry, architecture, suite.image_size)
            spec = registry.explainers.get(explainer.name)
            supports[(architecture.label, explainer.label)] = bool(spec.supports(model))
        del model

    for generator in suite.generators:
        generator_kind = registry.generators.get(generator.name).kind
        for seed in suite.seeds:
            data_payload = {
                "stage": "data",
                "generator": generator.identity(),
                "generator_kind": generator_kind,
                "image_size": suite.image_size,
                "counts": {"train": suite.data.train, "val": suite.data.val, "test": suite.data.test},
                "seed": seed,
            }
            data_key = content_key(data_payload)
            plan.add(
                Task(data_key, "data", f"{generator.label}/seed={seed}", (), data_payload),
                Cell(generator.label, NO_EXPLAINER, NO_EXPLAINER, seed),
            )
            for architecture in suite.architectures:
                model_payload = {
                    "stage": "train",
                    "data": data_key,
                    "architecture": architecture.identity(),
                    "training": _training_identity(suite, architecture),
                    "image_size": suite.image_size,
                    "num_classes": NUM_CLASSES,
                    "seed": seed,
                }
                model_key = content_key(model_payload)
                train_payload = {
                    "model_key": model_key,
                    "model": model_payload,
                    "device": suite.training.device,
                    "metrics": [m.identity() for m in classification],
                    "scoring": scoring,
                }
                train_key = content_key({"task": "train", **train_payload})
                cell_label = f"{generator.label}/{architecture.label}/seed={seed}"
                plan.add(
                    Task(train_key, "train", cell_label, (data_key,), train_payload,
                         {"cpu": 1.0, "gpu": 1.0 if suite.training.device != "cpu" else 0.0}),
                    Cell(generator.label, architecture.label, NO_EXPLAINER, seed),
                )
                for explainer in suite.explainers:
                    if not supports[(architecture.label, explainer.label)]:
                        plan.skipped.append(
                            SkippedPair(generator.label, architecture.label, explainer.label,
                                        f"{explainer.name} does not support {architecture.name}")
                        )
                        continue
                    heatmap_payload = {
                        "stage": "explain",
                        "model_key": model_key,
                        "explainer": explainer.identity(),
                        "seed": seed,
                        "target": suite.scoring.target,
                        "max_explained": suite.scoring.max_explained,
                    }
                    explain_payload = {
                        "heatmap_key": content_key(heatmap_payload),
                        "heatmaps": heatmap_payload,
                        "model": model_payload,
                        "data_key": data_key,
                        "batch_size": suite.scoring.explain_batch_size,
                        "device": suite.training.device,
                        "metrics": [m.identity() for m in heatmap_metrics],
                        "scoring": scoring,
                    }
                    explain_key = content_key({"task": "explain", **explain_payload})
                    plan.add(
                        Task(explain_key, "explain", f"{cell_label}/{explainer.label}",
                             (data_key, train_key), explain_payload,
                             {"cpu": 1.0, "gpu": 1.0 if suite.training.device != "cpu" else 0.0}),
                        Cell(generator.label, architecture.label, explainer.label, seed),
                    )
    return plan
