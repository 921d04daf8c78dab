"""Conformance kit for metric plugins: subclass, name your metric, run pytest.

::

    from ropbench.testing.metric_contract import MetricContract

    class TestMyScore(MetricContract):
        metric_name = "my-score"
        params = {"steps": 4}      # optional overrides that keep the test fast

Each test scores small synthetic inputs through the registry, one fresh
:class:`~ropbench.specs.ScoringContext` per computation (so no shared pass hides a
difference), and checks one promise of :class:`ropbench.specs.MetricSpec`:

- a valid kind, JSON-serialisable params, ``execution_params`` among them, sane
  ``bounds``;
- per-image values ``[N]`` (dataset-level: 0-d), finite where an image can be scored
  and NaN for an empty localization target;
- every value and chance value inside the spec's ``bounds``;
- a chance level of the same shape; for localization metrics, the mean score of
  uniformly random maps matches the declared chance (Monte Carlo: catches a wrong
  chance formula);
- bit-identical results under the same seed; per-image values independent of which
  other images share the batch; the same values whatever each execution parameter is
  (the promise that lets them leave cache keys).

The inputs (:func:`make_scoring_context`): random images, a tiny random CNN (nothing is
trained), disc-shaped targets (image 0's is empty), and vessels drawn so that every other
image has tortuous and healthy vessel pixels and segments: a short vessel inside the
target (its tortuous vessel pixels) and two long healthy ones far from it. Localization
maps are random, with one constant map (tie rules); faithfulness and sanity maps come
from a gradient x input explainer. ``straighten`` replaces each third of an image's
tortuous pixels by black in turn.

A test that does not apply to a metric is skipped, never passed. An execution parameter
is tried at its default and at a second value: 1 for an integer default above 1 (one
item per batch), else set ``execution_param_values = {"name": (first, second)}``.
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any, Callable, ClassVar, get_args

import pytest
import torch
from torch import nn

from ropbench.imaging import to_model_input
from ropbench.modelinfo import ModelInfo, attach_model_info
from ropbench.testing.execution_params import execution_value_pair
from ropbench.testing.registries import contract_registry
from ropbench.specs import MetricKind, MetricSpec, ScoringContext, SharedPasses, StretchInterventions
from ropbench.vessels import vessel_segments

__all__ = [
    "MetricContract",
    "TinyCNN",
    "build_tiny_cnn",
    "gradient_times_input",
    "make_scoring_context",
    "subset_context",
    "tiled_context",
]


class TinyCNN(nn.Module):
    """Two convolutions, global average pooling, a linear head: a CNN in miniature."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 4, 3, padding=1), nn.LeakyReLU(0.1), nn.Conv2d(4, 8, 3, padding=1), nn.LeakyReLU(0.1)
        )
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(8, 2)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.pool(self.features(images)).flatten(1))


def build_tiny_cnn(seed: int | None = 0) -> nn.Module:
    """A :class:`TinyCNN` with its ModelInfo: reproducible random weights from ``seed``,
    or from torch's global generator with ``seed=None`` (as the harness's fresh copies,
    which the sanity cascade seeds)."""
    if seed is None:
        model = TinyCNN().eval()
    else:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = TinyCNN().eval()
    return attach_model_info(model, ModelInfo(family="cnn", target_layer="features.3", classifier="head"))


def gradient_times_input(model: nn.Module, images: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """A small batched explainer (gradient x input, summed over channels) [N, H, W]."""
    images = images.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        logits = model(images)
        chosen = logits.gather(1, targets[:, None]).sum()
        (gradient,) = torch.autograd.grad(chosen, images)
    return (gradient * images).sum(1).detach()


def _blob_masks(count: int, size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Disc-shaped masks of random centre and radius (mask 0 empty), centres, radii."""
    rows = torch.arange(size).reshape(1, size, 1)
    cols = torch.arange(size).reshape(1, 1, size)
    centres = torch.randint(0, size, (count, 2), generator=generator)
    radii = torch.randint(1, size // 2, (count,), generator=generator)
    distance = (rows - centres[:, 0, None, None]) ** 2 + (cols - centres[:, 1, None, None]) ** 2
    masks = distance <= radii[:, None, None] ** 2
    masks[0] = False
    return masks, centres, radii


def _vessels(masks: torch.Tensor, centres: torch.Tensor, radii: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(vessel plane 0/1 [N, H, W], tortuous vessel pixels [N, H, W]).

    A short vessel along the disc's centre row, inside the disc (tortuous), and a full
    row and a full column at the image edges farthest from the centre (healthy: at least
    ``size / 2`` from the centre, beyond every radius).
    """
    count, size, _ = masks.shape
    vessels = torch.zeros(count, size, size)
    for index, ((row, col), radius) in enumerate(zip(centres.tolist(), radii.tolist())):
        far_row = 0 if row >= size / 2 else size - 1
        far_col = 0 if col >= size / 2 else size - 1
        vessels[index, far_row, :] = 1.0
        vessels[index, :, far_col] = 1.0
        vessels[index, row, max(col - radius, 0) : col + radius + 1] = 1.0
    tortuous = (vessels > 0) & masks
    return vessels, tortuous


def _kit_straighten(images: torch.Tensor, tortuous: torch.Tensor) -> Callable[[int], StretchInterventions | None]:
    """Stretch s of image ``row``: the s-th third of its tortuous pixels, turned black."""

    def straighten(row: int) -> StretchInterventions | None:
        pixels = tortuous[row].flatten().nonzero().flatten()
        if pixels.numel() == 0:
            return None
        parts = [part for part in torch.tensor_split(pixels, min(3, pixels.numel())) if part.numel()]
        stretches = torch.zeros(len(parts), *tortuous.shape[1:], dtype=torch.bool)
        for index, part in enumerate(parts):
            stretches[index].view(-1)[part] = True
        straightened = images[row].expand(len(parts), -1, -1, -1).clone()
        straightened[stretches[:, None].expand_as(straightened)] = 0
        return StretchInterventions(images=straightened, changed=stretches.clone(), stretches=stretches)

    return straighten


def make_scoring_context(kind: str, *, count: int = 6, size: int = 16, seed: int = 0) -> ScoringContext:
    """Small random inputs as the harness would pass them for a metric of ``kind``."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.arange(count) % 2
    logits = torch.randn(count, 2, generator=generator) + torch.stack([1 - labels, labels], 1) * 1.5
    probabilities = torch.softmax(logits, 1)
    if kind == "classification":
        return ScoringContext(labels=labels, probabilities=probabilities)
    pixels = torch.randint(0, 256, (count, 3, size, size), generator=generator, dtype=torch.uint8)
    images = to_model_input(pixels)
    targets = torch.ones(count, dtype=torch.int64)
    # The stand-in for a trained model: weights a fresh copy drawn under a small
    # randomization seed (the sanity cascade's) does not reproduce.
    model = build_tiny_cnn(seed + 1000)
    masks, centres, radii = _blob_masks(count, size, generator)
    vessels, tortuous = _vessels(masks, centres, radii)
    if kind == "localization":
        heatmaps = torch.rand(count, size, size, generator=generator)
        heatmaps[1] = 0.25  # a constant map: every tie rule is exercised
    else:
        heatmaps = gradient_times_input(model, images, targets)
    return ScoringContext(
        labels=labels,
        probabilities=probabilities,
        heatmaps=heatmaps,
        masks=masks,
        region_masks=masks.clone(),
        tortuous_vessels=tortuous,
        vessels=vessels,
        vessel_segments=vessel_segments(vessels),
        images=images,
        targets=targets,
        model=model,
        reexplain=lambda model, images, targets, rows: gradient_times_input(model, images, targets),
        build_fresh_model=lambda: build_tiny_cnn(None),
        straighten=_kit_straighten(pixels, tortuous),
        image_ids=tuple(f"kit/{seed}/{i}" for i in range(count)),
    )


def _replace_rows(context: ScoringContext, take: Callable[[torch.Tensor], torch.Tensor],
                  row_of: Callable[[int], int], rows: list[int], **changes: Any) -> ScoringContext:
    fields = {}
    for field in dataclasses.fields(context):
        value = getattr(context, field.name)
        if isinstance(value, torch.Tensor) and field.name not in changes:
            fields[field.name] = take(value)
    straighten = context.straighten
    if straighten is not None:
        fields["straighten"] = lambda row: straighten(row_of(row))
    reexplain = context.reexplain
    if reexplain is not None:
        fields["reexplain"] = lambda model, images, targets, where: reexplain(
            model, images, targets, torch.tensor([row_of(int(r)) for r in where], dtype=torch.int64)
        )
    if context.image_ids:
        fields["image_ids"] = tuple(context.image_ids[row] for row in rows)
    return dataclasses.replace(context, shared=SharedPasses(), **fields, **changes)


def subset_context(context: ScoringContext, rows: slice) -> ScoringContext:
    """The context of images ``rows`` only (a fresh ``shared``; straighten and reexplain
    see the original row numbers)."""
    kept = list(range(len(context)))[rows]
    first = kept[0] if kept else 0
    return _replace_rows(context, lambda t: t[rows].clone(), lambda row: first + row, kept)


def tiled_context(context: ScoringContext, repeats: int, **changes: Any) -> ScoringContext:
    """Every image ``repeats`` times (copy r of image i is row r N + i), fields in
    ``changes`` replaced (e.g. new heatmaps), a fresh ``shared``."""
    count = len(context)

    def tile(tensor: torch.Tensor) -> torch.Tensor:
        return tensor.repeat(repeats, *([1] * (tensor.dim() - 1)))

    return _replace_rows(context, tile, lambda row: row % count, [r % count for r in range(count * repeats)], **changes)


def _same(first: torch.Tensor, second: torch.Tensor, tolerance: float = 0.0) -> bool:
    first, second = first.to(torch.float64), second.to(torch.float64)
    if first.shape != second.shape or not torch.equal(torch.isnan(first), torch.isnan(second)):
        return False
    keep = ~torch.isnan(first)
    return bool(torch.allclose(first[keep], second[keep], rtol=tolerance, atol=tolerance))


class MetricContract:
    """Base class of a metric's conformance tests. Set ``metric_name``."""

    metric_name: ClassVar[str] = ""
    params: ClassVar[dict[str, Any]] = {}
    # Faithfulness and sanity metrics run models in batches: allow float noise.
    batch_tolerance: ClassVar[float] = 1e-6
    # execution param -> the two values whose scores must agree (default rule: see above).
    execution_param_values: ClassVar[dict[str, tuple[Any, Any]]] = {}
    # False for a localization metric that does not read the target (``masks``,
    # ``region_masks``, ``tortuous_vessels``): the empty-target test does not apply.
    reads_target: ClassVar[bool] = True
    # False when the kit's random inputs lack what the metric needs to be defined
    # (e.g. skeleton branches of some length): NaN is then allowed on scorable images.
    defined_on_kit_inputs: ClassVar[bool] = True
    # Random maps per image in the Monte-Carlo chance check, and the allowance on top of
    # four standard errors (for plug-in chance levels such as IoU's).
    chance_draws: ClassVar[int] = 200
    chance_tolerance: ClassVar[float] = 0.005
    seed: ClassVar[int] = 0  # the metric's seed
    plugins: ClassVar[tuple[Any, ...]] = ()  # plugin modules (or dotted names) to register in-process

    # -- helpers -----------------------------------------------------------------
    @property
    def spec(self) -> MetricSpec:
        return contract_registry(self.plugins).metrics.get(self.metric_name)

    def context(self, **kwargs: Any) -> ScoringContext:
        return make_scoring_context(self.spec.kind, **kwargs)

    def _params(self, **overrides: Any) -> dict[str, Any]:
        return {**self.spec.params, **self.params, **overrides}

    def score(self, context: ScoringContext, **overrides: Any) -> torch.Tensor:
        return self.spec.compute(context, self.seed, **self._params(**overrides))

    def chance(self, context: ScoringContext, **overrides: Any) -> torch.Tensor | None:
        if self.spec.chance is None:
            return None
        return self.spec.chance(context, self.seed, **self._params(**overrides))

    def scorable(self, context: ScoringContext) -> torch.Tensor:
        if self.spec.kind == "localization" and self.reads_target:
            return context.masks.flatten(1).any(1)
        return torch.ones(len(context), dtype=torch.bool)

    def _execution_values(self, name: str, value: Any) -> tuple[Any, Any]:
        return execution_value_pair(name, value, self.execution_param_values, "scores")

    def _assert_in_bounds(self, values: torch.Tensor, what: str) -> None:
        low, high = self.spec.bounds
        kept = values.reshape(-1).to(torch.float64)
        kept = kept[~torch.isnan(kept)]
        inside = (kept >= low - 1e-9) & (kept <= high + 1e-9)
        assert inside.all(), f"{what} outside the spec's bounds {self.spec.bounds}: {kept[~inside].tolist()}"

    # -- the contract ------------------------------------------------------------
    def test_spec_is_well_formed(self) -> None:
        spec = self.spec
        assert spec.kind in get_args(MetricKind), spec.kind
        assert isinstance(spec.higher_is_better, bool)
        assert isinstance(spec.version, str) and spec.version
        assert spec.description, "describe what the metric measures"
        assert json.loads(json.dumps(dict(spec.params))) == dict(spec.params), "params must be JSON values"
        unknown = set(self.params) - set(spec.params)
        assert not unknown, f"test params {unknown} are not declared in the spec's params"
        assert spec.execution_params <= set(spec.params), "execution_params must name declared params"
        if spec.bounds is not None:
            low, high = spec.bounds
            assert low <= high and not (math.isnan(low) or math.isnan(high)), spec.bounds

    def test_output_shape_and_dtype(self) -> None:
        context = self.context()
        values = self.score(context)
        assert isinstance(values, torch.Tensor) and values.is_floating_point()
        expected = () if self.spec.kind == "classification" else (len(context),)
        assert tuple(values.shape) == expected

    def test_values_finite_where_defined(self) -> None:
        if not self.defined_on_kit_inputs:
            pytest.skip(f"{self.metric_name} needs structure the kit's random inputs lack")
        context = self.context()
        values = self.score(context).reshape(-1)
        defined = self.scorable(context).reshape(-1) if values.numel() > 1 else torch.ones(1, dtype=torch.bool)
        assert torch.isfinite(values[defined]).all(), values

    def test_values_and_chance_within_bounds(self) -> None:
        if self.spec.bounds is None:
            pytest.skip(f"{self.metric_name} declares no bounds")
        for seed in (0, 1):
            context = self.context(seed=seed)
            self._assert_in_bounds(self.score(context), "values")
            chance = self.chance(self.context(seed=seed))
            if chance is not None:
                self._assert_in_bounds(chance, "chance values")

    def test_empty_mask_is_not_scored(self) -> None:
        if self.spec.kind != "localization":
            pytest.skip("only localization metrics read a localization target")
        if not self.reads_target:
            pytest.skip(f"{self.metric_name} does not read the localization target")
        context = self.context()
        assert not context.masks[0].any()
        values = self.score(context)
        assert math.isnan(float(values[0])), "an empty target must give NaN, never a hit"
        chance = self.chance(self.context())
        if chance is not None:
            assert math.isnan(float(chance[0]))

    def test_chance_has_the_same_shape(self) -> None:
        if self.spec.chance is None:
            pytest.skip(f"{self.metric_name} declares no chance level")
        values = self.score(self.context())
        chance = self.chance(self.context())
        assert isinstance(chance, torch.Tensor) and chance.shape == values.shape
        defined = torch.isfinite(values.reshape(-1))
        assert torch.isfinite(chance.reshape(-1)[defined]).all(), chance

    def test_chance_matches_the_mean_score_of_random_maps(self) -> None:
        """Monte Carlo: ``chance_draws`` uniformly random maps per image, scored like the
        metric; the mean of (score - chance) must be within four standard errors (plus
        ``chance_tolerance``) of 0."""
        if self.spec.kind != "localization":
            pytest.skip("the chance of a non-localization metric is not that of a random map")
        if self.spec.chance is None:
            pytest.skip(f"{self.metric_name} declares no chance level")
        base = self.context(size=16)
        generator = torch.Generator().manual_seed(12345)
        random_maps = torch.rand(len(base) * self.chance_draws, *base.heatmaps.shape[1:], generator=generator)
        context = tiled_context(base, self.chance_draws, heatmaps=random_maps)
        values = self.score(context).to(torch.float64)
        chance = self.chance(context).to(torch.float64)
        both = ~torch.isnan(values) & ~torch.isnan(chance)
        if int(both.sum()) < 2:
            pytest.skip(f"{self.metric_name} scores no random map of the kit's inputs")
        difference = (values - chance)[both]
        error = float(difference.std()) / math.sqrt(difference.numel())
        assert abs(float(difference.mean())) <= 4 * error + self.chance_tolerance, (
            f"mean score of random maps {float(values[both].mean()):.4f} vs declared chance "
            f"{float(chance[both].mean()):.4f} (standard error {error:.4f})"
        )

    def test_deterministic_under_seed(self) -> None:
        first = self.score(self.context(seed=3))
        again = self.score(self.context(seed=3))
        assert _same(first, again), (first, again)
        chance = self.chance(self.context(seed=3))
        if chance is not None:
            assert _same(chance, self.chance(self.context(seed=3)))

    def test_batch_invariant(self) -> None:
        if self.spec.kind == "classification":
            pytest.skip("classification metrics are dataset-level: there is no per-image value")
        context = self.context(seed=5)
        whole = self.score(context)
        halves = torch.cat(
            [self.score(subset_context(context, slice(0, 2))), self.score(subset_context(context, slice(2, None)))]
        )
        assert _same(whole, halves, self.batch_tolerance), (whole, halves)

    def test_execution_params_leave_values_unchanged(self) -> None:
        """The promise behind leaving ``execution_params`` out of cache keys."""
        spec = self.spec
        if not spec.execution_params:
            pytest.skip(f"{self.metric_name} declares no execution_params")
        params = self._params()
        for name in sorted(spec.execution_params):
            first, second = self._execution_values(name, params[name])
            assert first != second, f"execution param {name!r}: the two values tried must differ"
            # a fresh context each: a shared pass must not carry one value's result over
            values = [self.score(self.context(seed=7), **{name: value}) for value in (first, second)]
            assert _same(values[0], values[1], self.batch_tolerance), (
                f"{name}={first!r} and {name}={second!r} gave different values: {values}"
            )
            if spec.chance is not None:
                chances = [self.chance(self.context(seed=7), **{name: value}) for value in (first, second)]
                assert _same(chances[0], chances[1], self.batch_tolerance), (name, chances)
