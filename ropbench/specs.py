"""Frozen spec objects that plugins return from the ``ropbench_register_*`` hooks, and
the values the harness hands to them.

A spec is a name, a version, default parameters and the callables that do the work.
The core never imports a plugin module directly: it only sees these objects.
Everything a spec's ``params`` holds must be JSON-serialisable, because parameters are
part of every cache key (except the ``execution_params``, which change speed only).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Hashable, Literal, Mapping, Sequence, TypeVar

if TYPE_CHECKING:
    import torch
    from torch import nn

    from ropbench.executing import ExecutionReport

__all__ = [
    "Family",
    "MetricKind",
    "RetinaBatch",
    "StretchInterventions",
    "PluginSpec",
    "GeneratorSpec",
    "ArchitectureSpec",
    "ExplainContext",
    "ExplainerSpec",
    "SharedPasses",
    "ScoringContext",
    "MetricSpec",
    "ExecutorSpec",
    "ReporterSpec",
    "Spec",
]

Family = Literal["cnn", "vit", "probe"]
MetricKind = Literal["classification", "localization", "faithfulness", "sanity"]
T = TypeVar("T")


@dataclass(frozen=True)
class RetinaBatch:
    """Retinas with pixel-exact ground truth; every tensor shares the leading N.

    ``masks`` is the tortuous *region* (tortuous vessel pixels dilated by a margin of
    1/60 of the image side) and is empty for healthy images. ``tortuous_vessels`` is the
    tortuous vessel pixels only. ``vessels`` is the vessel plane in [0, 1] (coverage for
    the synthetic generators, the red channel for the seed format). ``metadata`` holds
    one JSON-serialisable dict per image (tortuosity indices, severity, and ``source``:
    where the image came from, e.g. a file name relative to a dataset's root).
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
class StretchInterventions:
    """One ROP image re-rendered once per tortuous stretch, that stretch straightened.

    ``images`` uint8 [S, 3, H, W]: image s has stretch s (only) replaced by a straight
    path of the same endpoints; ``changed`` bool [S, H, W]: the pixels that differ from
    the original image; ``stretches`` bool [S, H, W]: the original stretch's own vessel
    pixels (where a heatmap's heat on the stretch is read).
    """

    images: torch.Tensor
    changed: torch.Tensor
    stretches: torch.Tensor

    def __len__(self) -> int:
        return int(self.images.shape[0])


@dataclass(frozen=True, kw_only=True)
class PluginSpec:
    """What every spec has.

    :param name: the registered name (unique in its family).
    :param version: bump it whenever the spec's output changes: it is in every cache key.
    :param params: default parameters; a suite may override any of them.
    :param description: one line for ``ropbench list``.
    :param execution_params: names in ``params`` that change speed or memory, never the
        output (chunk and batch sizes); they are left out of cache keys, and the kits'
        batch-invariance tests hold the spec to that promise.
    :param replaces: set on a third-party spec meant to replace a registered spec of the
        same name (a built-in, say); without it a second spec of a name is an error.
    :param validate_params: optional check of a suite entry's parameters (the defaults
        updated by the entry's ``params``), run when the suite loads, after the type check
        against the defaults: raise ``ValueError`` (or ``RopbenchError``) saying what is
        wrong (a value out of range, an unknown choice); the suite error names the entry.
    :param plugin: the plugin that registered the spec; filled in by the registry.
    """

    name: str
    version: str = "1"
    params: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""
    execution_params: frozenset[str] = frozenset()
    replaces: bool = False
    validate_params: Callable[[Mapping[str, Any]], object] | None = field(default=None, compare=False)
    plugin: str = field(default="", compare=False)

    def identity_params(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """``params`` without the execution-only ones: what a cache key may hash."""
        return {k: v for k, v in params.items() if k not in self.execution_params}


@dataclass(frozen=True, kw_only=True)
class GeneratorSpec(PluginSpec):
    """A source of retinas: a synthetic generator or a dataset loader.

    ``generate(n, size, seed, start=0, **params) -> RetinaBatch`` returns images
    ``start .. start+n-1``; image i must depend only on (name, version, params, seed, i)
    so that datasets are prefixes of each other and chunks can be made in any order.
    A synthetic generator's image i is ROP iff i is odd.

    :param source: ``synthetic`` (endless, seeded) or ``dataset`` (files on disk).
    :param fingerprint: datasets: ``fingerprint(**params) -> str`` names the current
        contents of the files behind ``params`` (part of the data stage's cache key, so
        an edited dataset is read again).
    :param writer: datasets: ``writer(out_dir) -> DatasetWriter`` writes batches in the
        format this loader reads (``ropbench generate --format``).
    :param straighten: synthetic generators that can intervene:
        ``straighten(index, size, seed, **params) -> StretchInterventions | None``, every
        tortuous stretch of image ``index`` straightened in turn (None for a healthy image).
    """

    generate: Callable[..., RetinaBatch]
    source: Literal["synthetic", "dataset"] = "synthetic"
    fingerprint: Callable[..., str] | None = None
    writer: Callable[..., Any] | None = None
    straighten: Callable[..., StretchInterventions | None] | None = None


@dataclass(frozen=True, kw_only=True)
class ArchitectureSpec(PluginSpec):
    """A classifier. ``build(num_classes, image_size, **params) -> nn.Module``.

    The built module takes float32 [N, 3, H, W] normalised as by
    :func:`ropbench.imaging.to_model_input` and returns logits [N, num_classes]. It must
    carry a :class:`ropbench.modelinfo.ModelInfo` (see ``attach_model_info``) telling
    explainers its family, target layer, token grid and prefix tokens; the family the
    explainers go by is that ModelInfo's.

    ``fit(model, train, val, seed) -> dict`` replaces gradient training for models that
    are fitted otherwise (the tortuosity-blind ``shortcut-probe``): it fits ``model`` in
    place and returns JSON-able training notes. Without it the harness's training loop
    trains the model. A model whose ModelInfo family is ``probe`` gets no explainers.
    """

    build: Callable[..., "nn.Module"]
    fit: Callable[..., Mapping[str, Any]] | None = None


@dataclass(frozen=True)
class ExplainContext:
    """What the harness knows about the images being explained besides the pixels.

    ``seed`` is the explainer's recorded seed (draw all randomness from it). The planes
    are those of the same images, row for row: ``vessels`` float [N, H, W] (the
    vessel-map controls), ``masks`` bool [N, H, W] the localization target and
    ``tortuous_vessels`` bool [N, H, W] (the oracle control). Ground truth is for
    controls only: an explainer that reads it is not explaining the model.
    """

    seed: int
    vessels: "torch.Tensor | None" = None
    masks: "torch.Tensor | None" = None
    tortuous_vessels: "torch.Tensor | None" = None


@dataclass(frozen=True, kw_only=True)
class ExplainerSpec(PluginSpec):
    """A heatmap method.

    ``supports(model) -> bool`` says whether it applies to a built model.
    ``explain(model, images, targets, context, **params) -> float32 [N, H, W]`` at input
    resolution, raw values (no per-image min-max), batched, on the model's device.
    ``images`` are model inputs (float32 [N, 3, H, W]); ``targets`` int64 [N] classes.
    ``control`` marks reference maps that do not explain the model (random, vessel
    map, oracle): boards show them as controls.
    """

    explain: Callable[..., "torch.Tensor"]
    supports: Callable[["nn.Module"], bool]
    control: bool = False


class SharedPasses:
    """Expensive passes several metrics share, computed once per scoring context.

    ``get(key, compute)`` returns ``compute()``'s value for ``key``, computing it the
    first time: a deletion curve, a randomisation cascade, a ranking. Keys are explicit
    (a name and the parameters the pass depends on), never object identities.
    """

    def __init__(self) -> None:
        self._values: dict[Hashable, Any] = {}

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        if key not in self._values:
            self._values[key] = compute()
        return self._values[key]

    def __contains__(self, key: Hashable) -> bool:
        return key in self._values


@dataclass(frozen=True, eq=False)
class ScoringContext:
    """Everything the metrics of one scoring step may read; fields a step lacks are None.

    A classification step (one per trained model) has every test image: ``labels`` and
    ``probabilities``. A heatmap step (one per model and explainer) has the explained
    images, ROP test images with a non-empty localization target, and the planes:

    - ``heatmaps`` float32 [N, H, W], the explainer's raw maps;
    - ``masks`` bool [N, H, W], the suite's localization target (``region_masks`` or
      ``tortuous_vessels``); ``region_masks`` the tortuous region; ``tortuous_vessels``
      the tortuous vessel pixels; ``vessels`` float32 [N, H, W] the vessel plane in [0, 1];
      ``vessel_segments`` int32 [N, H, W], the vessel segment (skeleton branch) each
      vessel pixel belongs to, 0 off vessels (see :mod:`ropbench.vessels`);
    - ``images`` float32 model inputs [N, 3, H, W], ``targets`` int64 [N], ``model``;
    - ``reexplain(model, images, targets, rows)``: the same explainer and parameters on
      other images, batched and seeded as the explain stage does; ``rows`` int64 says
      which explained image each of ``images`` derives from (its side data is used);
    - ``build_fresh_model()``: a fresh untrained copy of the architecture;
    - ``straighten(row)``: :class:`StretchInterventions` of explained image ``row``
      where the generator can intervene, else None;
    - ``image_ids``: where each image came from (its ``source``);
    - ``shared``: :class:`SharedPasses` for passes several metrics share.

    The metric's seed is not here: ``compute(context, seed, **params)`` receives it.
    """

    labels: "torch.Tensor"
    probabilities: "torch.Tensor"
    heatmaps: "torch.Tensor | None" = None
    masks: "torch.Tensor | None" = None
    region_masks: "torch.Tensor | None" = None
    tortuous_vessels: "torch.Tensor | None" = None
    vessels: "torch.Tensor | None" = None
    vessel_segments: "torch.Tensor | None" = None
    images: "torch.Tensor | None" = None
    targets: "torch.Tensor | None" = None
    model: "nn.Module | None" = None
    reexplain: "Callable[[nn.Module, torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor] | None" = None
    build_fresh_model: "Callable[[], nn.Module] | None" = None
    straighten: "Callable[[int], StretchInterventions | None] | None" = None
    image_ids: tuple[str, ...] = ()
    shared: SharedPasses = field(default_factory=SharedPasses)

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def require(self, *names: str) -> tuple[Any, ...]:
        """The named fields, or a ValueError naming the first one this step lacks."""
        values = []
        for name in names:
            value = getattr(self, name)
            if value is None:
                raise ValueError(f"this metric needs ScoringContext.{name}, which this scoring step lacks")
            values.append(value)
        return tuple(values)


@dataclass(frozen=True, kw_only=True)
class MetricSpec(PluginSpec):
    """A score. ``compute(context, seed, **params)`` returns float per-image values [N]
    (NaN where an image is not scored) or a 0-d tensor for dataset-level metrics
    (classification metrics are dataset-level). ``seed`` is the metric's own recorded
    seed: draw every random number from it.

    ``chance(context, seed, **params)`` returns the expected score of a uniformly random
    heatmap (classification: of a coin-flip classifier), in the same shape, where such a
    level exists. ``bounds`` is the range every value must lie in (None: unbounded); the
    harness rejects values outside it.
    """

    kind: MetricKind
    higher_is_better: bool
    compute: Callable[..., "torch.Tensor"]
    chance: "Callable[..., torch.Tensor] | None" = None
    bounds: tuple[float, float] | None = (0.0, 1.0)


@dataclass(frozen=True, kw_only=True)
class ExecutorSpec(PluginSpec):
    """Runs the stage graph. ``run(tasks, runtime, progress, **options) -> ExecutionReport``.

    ``tasks`` are topologically ordered; ``runtime.execute(task)`` does one task and is
    picklable so that it can run in another process or on another machine. ``params``
    are the options the executor accepts with their defaults (``ropbench run
    --option NAME=VALUE``); any other option is an error.
    """

    run: Callable[..., "ExecutionReport"]


@dataclass(frozen=True, kw_only=True)
class ReporterSpec(PluginSpec):
    """Writes something from a finished run. ``write(run_dir, table, manifest, **params)
    -> list[Path]``. ``table`` is the tidy results DataFrame (see :mod:`ropbench.results`);
    ``params`` come from the suite's ``reporters`` entry.
    """

    write: Callable[..., Sequence[Any]]


Spec = GeneratorSpec | ArchitectureSpec | ExplainerSpec | MetricSpec | ExecutorSpec | ReporterSpec
