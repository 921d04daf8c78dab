"""Frozen spec objects that plugins return from the ``ropbench_register_*`` hooks.

A spec is a name, a version, default parameters and the callables that do the work.
The core never imports a plugin module directly: it only sees these objects.
Everything a spec's ``params`` holds must be JSON-serialisable, because parameters are
part of every cache key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Literal, Mapping, Sequence

if TYPE_CHECKING:
    import torch
    from torch import nn

    from ropbench.executing import ExecutionReport, Task, TaskRuntime, ProgressSink

__all__ = [
    "Family",
    "MetricKind",
    "RetinaBatch",
    "GeneratorSpec",
    "ArchitectureSpec",
    "ExplainContext",
    "ExplainerSpec",
    "ScoringInputs",
    "MetricSpec",
    "ExecutorSpec",
    "ReporterSpec",
    "Spec",
]

Family = Literal["cnn", "vit"]
MetricKind = Literal["classification", "localization", "faithfulness", "sanity"]


@dataclass(frozen=True)
class RetinaBatch:
    """Retinas with pixel-exact ground truth; every tensor shares the leading N.

    ``masks`` is the tortuous *region* (tortuous vessel pixels dilated by a margin of
    1/60 of the image side) and is empty for healthy images. ``tortuous_vessels`` is the
    tortuous vessel pixels only. ``vessels`` is the vessel coverage map in [0, 1].
    ``metadata`` holds one JSON-serialisable dict per image (tortuosity indices,
    severity, ...).
    """

    images: torch.Tensor  # uint8 [N, 3, H, W]
    labels: torch.Tensor  # int64 [N]; 0 healthy, 1 ROP
    masks: torch.Tensor  # bool [N, H, W]
    tortuous_vessels: torch.Tensor  # bool [N, H, W]
    vessels: torch.Tensor  # float32 [N, H, W] in [0, 1]
    metadata: tuple[Mapping[str, Any], ...] = ()

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def select(self, index: "torch.Tensor | slice") -> "RetinaBatch":
        """Rows picked by a slice, a boolean mask or an index tensor."""
        import torch

        if isinstance(index, slice):
            rows = range(len(self))[index]
            metadata = tuple(self.metadata[i] for i in rows) if self.metadata else ()
        else:
            index = torch.as_tensor(index)
            if index.dtype == torch.bool:
                index = index.nonzero().flatten()
            metadata = tuple(self.metadata[int(i)] for i in index) if self.metadata else ()
        return RetinaBatch(
            images=self.images[index],
            labels=self.labels[index],
            masks=self.masks[index],
            tortuous_vessels=self.tortuous_vessels[index],
            vessels=self.vessels[index],
            metadata=metadata,
        )

    @staticmethod
    def concat(batches: Sequence["RetinaBatch"]) -> "RetinaBatch":
        """One batch made of several, in order."""
        import torch

        return RetinaBatch(
            images=torch.cat([b.images for b in batches]),
            labels=torch.cat([b.labels for b in batches]),
            masks=torch.cat([b.masks for b in batches]),
            tortuous_vessels=torch.cat([b.tortuous_vessels for b in batches]),
            vessels=torch.cat([b.vessels for b in batches]),
            metadata=tuple(m for b in batches for m in b.metadata),
        )


@dataclass(frozen=True)
class GeneratorSpec:
    """A source of retinas: a synthetic generator or a dataset loader.

    ``generate(n, size, seed, start=0, **params) -> RetinaBatch`` returns images
    ``start .. start+n-1``; image i must depend only on (name, version, params, seed, i)
    so that datasets are prefixes of each other and chunks can be made in any order.
    """

    name: str
    generate: Callable[..., RetinaBatch]
    version: str = "1"
    params: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""
    kind: Literal["synthetic", "dataset"] = "synthetic"


@dataclass(frozen=True)
class ArchitectureSpec:
    """A classifier. ``build(num_classes, image_size, **params) -> nn.Module``.

    The built module takes float32 [N, 3, H, W] normalised as by
    :func:`ropbench.imaging.to_model_input` and returns logits [N, num_classes]. It must
    carry a :class:`ropbench.modelinfo.ModelInfo` (see ``attach_model_info``) telling
    explainers its target layer, token grid and prefix tokens.
    """

    name: str
    family: Family
    build: Callable[..., "nn.Module"]
    version: str = "1"
    params: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""


@dataclass(frozen=True)
class ExplainContext:
    """What the harness knows about the images being explained besides the pixels.

    ``seed`` is the explainer's recorded seed (draw all randomness from it); ``vessels``
    is the vessel map [N, H, W] of these images (used by the vessel-map control).
    """

    seed: int
    vessels: "torch.Tensor | None" = None


@dataclass(frozen=True)
class ExplainerSpec:
    """A heatmap method.

    ``supports(model) -> bool`` says whether it applies to a built model.
    ``explain(model, images, targets, context, **params) -> float32 [N, H, W]`` at input
    resolution, raw values (no per-image min-max), batched, on the model's device.
    ``images`` are model inputs (float32 [N, 3, H, W]); ``targets`` int64 [N] classes.
    """

    name: str
    explain: Callable[..., "torch.Tensor"]
    supports: Callable[["nn.Module"], bool]
    version: str = "1"
    params: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""


@dataclass(frozen=True)
class ScoringInputs:
    """Everything a metric may read. Fields a stage does not have are None.

    Classification metrics get every test image (``heatmaps`` is None). Localization,
    faithfulness and sanity metrics get the explained images: ROP test images with a
    non-empty target mask, explained for ``targets``.
    """

    labels: "torch.Tensor"  # int64 [N]
    probabilities: "torch.Tensor"  # float32 [N, C]
    seed: int
    heatmaps: "torch.Tensor | None" = None  # float32 [N, H, W]
    masks: "torch.Tensor | None" = None  # bool [N, H, W]: the selected localization target
    images: "torch.Tensor | None" = None  # float32 model inputs [N, 3, H, W]
    targets: "torch.Tensor | None" = None  # int64 [N]
    model: "nn.Module | None" = None
    # Re-explains images with the same explainer and parameters (sanity checks).
    explain: "Callable[[nn.Module, torch.Tensor, torch.Tensor], torch.Tensor] | None" = None
    # Builds a fresh, untrained copy of the architecture (sanity checks).
    build_model: "Callable[[], nn.Module] | None" = None


@dataclass(frozen=True)
class MetricSpec:
    """A score. ``compute(inputs, **params)`` returns float per-image values [N]
    (NaN where an image is not scored) or a 0-d tensor for dataset-level metrics.

    ``chance(inputs, **params)`` returns the expected score of a uniformly random
    heatmap, in the same shape, where such a level exists.
    """

    name: str
    kind: MetricKind
    higher_is_better: bool
    compute: Callable[..., "torch.Tensor"]
    version: str = "1"
    params: Mapping[str, Any] = field(default_factory=dict)
    chance: "Callable[..., torch.Tensor] | None" = None
    description: str = ""


@dataclass(frozen=True)
class ExecutorSpec:
    """Runs the stage graph. ``run(tasks, runtime, progress, **options) -> ExecutionReport``.

    ``tasks`` are topologically ordered; ``runtime.execute(task)`` does one task and is
    picklable so that it can run in another process or on another machine.
    """

    name: str
    run: Callable[..., "ExecutionReport"]
    version: str = "1"
    params: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""


@dataclass(frozen=True)
class ReporterSpec:
    """Writes something from a finished run. ``write(run_dir, table, manifest) -> list[Path]``.

    ``table`` is the tidy results DataFrame (see :mod:`ropbench.results`).
    """

    name: str
    write: Callable[..., Sequence[Any]]
    version: str = "1"
    params: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""


Spec = GeneratorSpec | ArchitectureSpec | ExplainerSpec | MetricSpec | ExecutorSpec | ReporterSpec
