"""The stage graph's typed tasks: data, train, explain and score.

The planner builds them, executors schedule them (through the :class:`ropbench.executing.Task`
protocol: key, stage, label, dependencies, resources) and the stages compute them. Each
task holds the task it reads from, so a stage finds its inputs' cache entries, and can
recompute them when they are missing, without looking anything up by string.

A task's key is the sha256 of :meth:`identity`: everything that determines its output,
the result-schema version included, and nothing else (labels, devices, batch and chunk
sizes stay out; see :mod:`ropbench.schema`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar, Literal, Mapping

from ropbench.cache import content_key
from ropbench.schema import RESULT_SCHEMA_VERSION
from ropbench.training.config import TrainingConfig

__all__ = [
    "NO_EXPLAINER",
    "NUM_CLASSES",
    "CellLabels",
    "PluginRef",
    "SplitCounts",
    "StageTask",
    "DataTask",
    "TrainTask",
    "ModelTask",
    "ExplainTask",
    "ScoreTask",
]

NUM_CLASSES = 2
NO_EXPLAINER = "-"  # the explainer column of classification rows


@dataclass(frozen=True)
class CellLabels:
    """The labels of the results a task belongs to (presentation only: never keyed)."""

    generator: str
    architecture: str = NO_EXPLAINER
    explainer: str = NO_EXPLAINER
    seed: int = 0

    def text(self) -> str:
        parts = [self.generator]
        if self.architecture != NO_EXPLAINER:
            parts.append(self.architecture)
        parts.append(f"seed={self.seed}")
        if self.explainer != NO_EXPLAINER:
            parts.append(self.explainer)
        return "/".join(parts)


@dataclass(frozen=True)
class PluginRef:
    """A chosen plugin: name, version, the parameters that change results (keyed) and
    the execution-only ones (chunk and batch sizes: applied, never keyed)."""

    name: str
    version: str
    params: Mapping[str, Any] = field(default_factory=dict)
    execution: Mapping[str, Any] = field(default_factory=dict)

    def identity(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "params": dict(self.params)}

    def call_params(self) -> dict[str, Any]:
        """Every parameter, as the plugin's callable receives them."""
        return {**self.params, **self.execution}


@dataclass(frozen=True)
class SplitCounts:
    """Images per split (synthetic generators: half healthy, half ROP)."""

    train: int
    val: int
    test: int

    def as_dict(self) -> dict[str, int]:
        return {"train": self.train, "val": self.val, "test": self.test}


@dataclass(frozen=True, kw_only=True)
class StageTask:
    """What every typed task shares; implements :class:`ropbench.executing.Task`."""

    stage: ClassVar[Literal["data", "train", "explain", "score"]]
    cell: CellLabels

    def identity(self) -> dict[str, Any]:
        raise NotImplementedError

    @cached_property
    def key(self) -> str:
        """Content address of the task's output: sha256 of its identity."""
        return content_key({"schema": RESULT_SCHEMA_VERSION, "stage": self.stage, **self.identity()})

    @property
    def label(self) -> str:
        return self.cell.text()

    @property
    def upstream(self) -> tuple["StageTask", ...]:
        return ()

    @property
    def depends_on(self) -> tuple[str, ...]:
        return tuple(task.key for task in self.upstream)

    @property
    def device(self) -> str:
        return "cpu"

    @property
    def resources(self) -> Mapping[str, float]:
        return {"cpu": 1.0, "gpu": 0.0 if self.device == "cpu" else 1.0}


@dataclass(frozen=True, kw_only=True)
class DataTask(StageTask):
    """Generate (or load) the train, val and test splits of one generator and seed.

    :param fingerprint: a dataset's current contents (its loader's ``fingerprint``), so
        an edited dataset is read again; None for synthetic generators.
    :param workers: generation processes (speed only: not keyed).
    """

    stage: ClassVar = "data"
    generator: PluginRef
    source: Literal["synthetic", "dataset"]
    fingerprint: str | None
    image_size: int
    counts: SplitCounts
    seed: int
    workers: int = 1

    def identity(self) -> dict[str, Any]:
        return {"generator": self.generator.identity(), "source": self.source,
                "fingerprint": self.fingerprint, "image_size": self.image_size,
                "counts": self.counts.as_dict(), "seed": self.seed}


@dataclass(frozen=True, kw_only=True)
class TrainTask(StageTask):
    """Fit one architecture on one data task's train split (val for model selection) and
    predict its test split. ``training.device`` is where it runs (not keyed)."""

    stage: ClassVar = "train"
    data: DataTask
    architecture: PluginRef
    training: TrainingConfig
    image_size: int
    num_classes: int = NUM_CLASSES
    seed: int

    def identity(self) -> dict[str, Any]:
        return {"data": self.data.key, "architecture": self.architecture.identity(),
                "training": self.training.identity(), "image_size": self.image_size,
                "num_classes": self.num_classes, "seed": self.seed}

    @property
    def upstream(self) -> tuple[StageTask, ...]:
        return (self.data,)

    @property
    def device(self) -> str:
        return self.training.device


@dataclass(frozen=True, kw_only=True)
class ModelTask(StageTask):
    """A task that works on one trained model (explaining it, scoring it)."""

    model: TrainTask

    @property
    def data(self) -> DataTask:
        return self.model.data

    @property
    def seed(self) -> int:
        return self.model.seed

    @property
    def device(self) -> str:
        return self.model.device


@dataclass(frozen=True, kw_only=True)
class ExplainTask(ModelTask):
    """Heatmaps of one trained model by one explainer, for the explained test images
    (ROP images with a non-empty localization target, at most ``max_explained``).

    :param batch_size: images per explainer call (speed only: not keyed).
    """

    stage: ClassVar = "explain"
    explainer: PluginRef
    target: Literal["region", "vessels"]
    max_explained: int
    batch_size: int = 16

    def identity(self) -> dict[str, Any]:
        return {"model": self.model.key, "explainer": self.explainer.identity(),
                "target": self.target, "max_explained": self.max_explained}

    @property
    def upstream(self) -> tuple[StageTask, ...]:
        return (self.model,)


@dataclass(frozen=True, kw_only=True)
class ScoreTask(ModelTask):
    """Score one trained model: its test-set classification (``heatmaps`` None) or one
    explainer's heatmaps (``heatmaps`` the explain task). Each metric is also cached on
    its own, so adding a metric to a suite computes only that metric."""

    stage: ClassVar = "score"
    heatmaps: ExplainTask | None
    metrics: tuple[PluginRef, ...]
    bootstrap_resamples: int

    def identity(self) -> dict[str, Any]:
        return {"model": self.model.key, "heatmaps": self.heatmaps.key if self.heatmaps else None,
                "metrics": [m.identity() for m in self.metrics],
                "bootstrap_resamples": self.bootstrap_resamples}

    def metric_key(self, metric: PluginRef) -> str:
        """The cache key of one metric's row: what it scores, the metric and the resamples."""
        scored = self.heatmaps.key if self.heatmaps else self.model.key
        return content_key({"schema": RESULT_SCHEMA_VERSION, "stage": "metric", "scored": scored,
                            "metric": metric.identity(), "bootstrap_resamples": self.bootstrap_resamples})

    @property
    def upstream(self) -> tuple[StageTask, ...]:
        return (self.model,) if self.heatmaps is None else (self.model, self.heatmaps)
