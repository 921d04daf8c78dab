"""Conformance kit for metric plugins: subclass, name your metric, run pytest.

::

    from ropbench.testing.metric_contract import MetricContract

    class TestMyScore(MetricContract):
        metric_name = "my-score"
        params = {"steps": 4}      # optional overrides that keep the test fast
        bounds = (0.0, 1.0)        # optional: range every value must lie in (None: any)

Each test scores small synthetic inputs (random maps and blob masks, one image with an
empty mask, a tiny random CNN for faithfulness and sanity metrics; nothing is trained)
through the registry and checks one promise of :class:`ropbench.specs.MetricSpec`:
a valid kind and JSON-serialisable params; per-image values ``[N]`` (dataset-level:
0-d); finite values where an image can be scored, NaN for an empty mask (localization);
a chance level of the same shape in range; bit-identical results under the same seed;
per-image values independent of which other images share the batch.
"""

from __future__ import annotations

import json
import math
from typing import Any, ClassVar, get_args

import torch
from torch import nn

from ropbench.modelinfo import ModelInfo, attach_model_info
from ropbench.registry import get_registry
from ropbench.specs import MetricKind, MetricSpec, ScoringInputs

__all__ = ["MetricContract", "TinyCNN", "gradient_times_input", "make_scoring_inputs"]


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


def build_tiny_cnn(seed: int = 0) -> nn.Module:
    """A :class:`TinyCNN` with reproducible random weights and its ModelInfo."""
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


def _blob_masks(count: int, size: int, generator: torch.Generator) -> torch.Tensor:
    """Disc-shaped masks of random centre and radius; mask 0 is empty."""
    rows = torch.arange(size).reshape(1, size, 1)
    cols = torch.arange(size).reshape(1, 1, size)
    centres = torch.randint(0, size, (count, 2), generator=generator)
    radii = torch.randint(1, size // 2, (count,), generator=generator)
    distance = (rows - centres[:, 0, None, None]) ** 2 + (cols - centres[:, 1, None, None]) ** 2
    masks = distance <= radii[:, None, None] ** 2
    masks[0] = False
    return masks


def make_scoring_inputs(kind: str, *, count: int = 6, size: int = 16, seed: int = 0) -> ScoringInputs:
    """Small random inputs as the harness would pass them for a metric of ``kind``."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.arange(count) % 2
    logits = torch.randn(count, 2, generator=generator) + torch.stack([1 - labels, labels], 1) * 1.5
    probabilities = torch.softmax(logits, 1)
    if kind == "classification":
        return ScoringInputs(labels=labels, probabilities=probabilities, seed=seed)
    images = torch.rand(count, 3, size, size, generator=generator) * 2 - 1
    targets = torch.ones(count, dtype=torch.int64)
    model = build_tiny_cnn(seed)
    masks = _blob_masks(count, size, generator)
    if kind == "localization":
        heatmaps = torch.rand(count, size, size, generator=generator)
        heatmaps[1] = 0.25  # a constant map: every tie rule is exercised
    else:
        heatmaps = gradient_times_input(model, images, targets)
    return ScoringInputs(
        labels=labels,
        probabilities=probabilities,
        seed=seed,
        heatmaps=heatmaps,
        masks=masks,
        images=images,
        targets=targets,
        model=model,
        explain=gradient_times_input,
        build_model=lambda: build_tiny_cnn(seed + 1000),
    )


def _clone(inputs: ScoringInputs) -> ScoringInputs:
    """Equal inputs made of new tensors (defeats any identity-keyed cache)."""
    fields = {
        name: value.clone() if isinstance(value, torch.Tensor) else value for name, value in vars(inputs).items()
    }
    return ScoringInputs(**fields)


def _rows(inputs: ScoringInputs, index: slice) -> ScoringInputs:
    fields = {
        name: value[index].clone() if isinstance(value, torch.Tensor) else value for name, value in vars(inputs).items()
    }
    return ScoringInputs(**fields)


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
    bounds: ClassVar[tuple[float, float] | None] = (0.0, 1.0)
    # Faithfulness and sanity metrics run models in batches: allow float noise.
    batch_tolerance: ClassVar[float] = 1e-6

    # -- helpers -----------------------------------------------------------------
    @property
    def spec(self) -> MetricSpec:
        return get_registry().metrics.get(self.metric_name)

    def inputs(self, **kwargs: Any) -> ScoringInputs:
        return make_scoring_inputs(self.spec.kind, **kwargs)

    def score(self, inputs: ScoringInputs) -> torch.Tensor:
        return self.spec.compute(inputs, **{**self.spec.params, **self.params})

    def chance(self, inputs: ScoringInputs) -> torch.Tensor | None:
        if self.spec.chance is None:
            return None
        return self.spec.chance(inputs, **{**self.spec.params, **self.params})

    def scorable(self, inputs: ScoringInputs) -> torch.Tensor:
        if self.spec.kind == "localization":
            return inputs.masks.flatten(1).any(1)
        return torch.ones(inputs.labels.shape[0], dtype=torch.bool)

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

    def test_output_shape_and_dtype(self) -> None:
        inputs = self.inputs()
        values = self.score(inputs)
        assert isinstance(values, torch.Tensor) and values.is_floating_point()
        expected = () if self.spec.kind == "classification" else (inputs.labels.shape[0],)
        assert tuple(values.shape) == expected

    def test_values_finite_where_defined_and_in_bounds(self) -> None:
        inputs = self.inputs()
        values = self.score(inputs).reshape(-1)
        defined = self.scorable(inputs).reshape(-1) if values.numel() > 1 else torch.ones(1, dtype=torch.bool)
        assert torch.isfinite(values[defined]).all(), values
        if self.bounds is not None:
            low, high = self.bounds
            kept = values[defined]
            assert ((kept >= low - 1e-9) & (kept <= high + 1e-9)).all(), values

    def test_empty_mask_is_not_scored(self) -> None:
        if self.spec.kind != "localization":
            return
        inputs = self.inputs()
        assert not inputs.masks[0].any()
        values = self.score(inputs)
        assert math.isnan(float(values[0])), "an empty mask must give NaN, never a hit"
        chance = self.chance(inputs)
        if chance is not None:
            assert math.isnan(float(chance[0]))

    def test_chance_has_the_same_shape_and_is_in_range(self) -> None:
        inputs = self.inputs()
        chance = self.chance(inputs)
        if chance is None:
            return
        values = self.score(inputs)
        assert isinstance(chance, torch.Tensor) and chance.shape == values.shape
        defined = torch.isfinite(values.reshape(-1))
        flat = chance.reshape(-1)[defined]
        assert torch.isfinite(flat).all(), chance
        if self.bounds is not None:
            low, high = self.bounds
            assert ((flat >= low - 1e-9) & (flat <= high + 1e-9)).all(), chance

    def test_deterministic_under_seed(self) -> None:
        inputs = self.inputs(seed=3)
        first = self.score(inputs)
        again = self.score(_clone(self.inputs(seed=3)))
        assert _same(first, again), (first, again)
        chance = self.chance(inputs)
        if chance is not None:
            assert _same(chance, self.chance(_clone(self.inputs(seed=3))))

    def test_batch_invariant(self) -> None:
        if self.spec.kind == "classification":
            return
        inputs = self.inputs(seed=5)
        whole = self.score(inputs)
        halves = torch.cat([self.score(_rows(inputs, slice(0, 2))), self.score(_rows(inputs, slice(2, None)))])
        assert _same(whole, halves, self.batch_tolerance), (whole, halves)
