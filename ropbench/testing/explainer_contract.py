"""Conformance kit for explainer plugins: subclass, name your explainer, run pytest.

::

    from ropbench.testing.explainer_contract import ExplainerContract

    class TestMyMap(ExplainerContract):
        explainer_name = "my-map"
        architecture_names = ("seed-cnn", "vit_tiny_patch16")  # optional
        params = {"steps": 4}  # optional overrides that keep the test fast

Each test is parametrized over the chosen registered architectures that the explainer
``supports`` (random-init models, built small; nothing is trained). It checks the
contract of :class:`ropbench.specs.ExplainerSpec`: float32 ``[N, H, W]`` at input
resolution, finite, deterministic under a seed, batch-invariant (a batch explained
equals its images explained one by one), the same maps whatever the value of each
``execution_params`` entry, and the model left as it was found (parameters, training
flags, ``requires_grad``, hooks).

The :class:`~ropbench.specs.ExplainContext` carries every plane the harness passes
(``vessels``, ``masks``, ``tortuous_vessels``), so controls that read them are tested
like any explainer. An execution parameter is tried at its default and at a second
value: 1 for an integer default above 1 (one item per chunk: the most different
chunking), else set ``execution_param_values = {"name": (first, second)}``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, ClassVar

import pytest
import torch
from torch import nn

from ropbench.imaging import to_model_input
from ropbench.modelinfo import MissingModelInfoError, model_info
from ropbench.testing.execution_params import execution_value_pair
from ropbench.testing.registries import contract_registry
from ropbench.specs import ExplainContext, ExplainerSpec
from ropbench.vessels import vessel_pixels

__all__ = ["ExplainerContract", "DEFAULT_ARCHITECTURES", "build_small_model", "small_context", "model_fingerprint"]

# Cheap members of every code path: no-GAP CNN with leaky ReLU, GAP CNN, a ReLU/GAP timm
# CNN, a SiLU/depthwise timm CNN, a single-prefix ViT, a two-prefix-token DeiT and the
# conv-stem ViT the quick suite trains (8-px patches: a 6x6 grid at 48 px).
# (convnext_atto is left out: its 1e-6 layer-scale init makes random-init CAMs pure
# cancellation noise, a few % apart between batch sizes.)
DEFAULT_ARCHITECTURES: tuple[str, ...] = (
    "seed-cnn", "gap-cnn", "resnet18", "efficientnet_b0", "vit_tiny_patch16", "deit_tiny_distilled_patch16",
    "vit-convstem-tiny",
)


# ViTs need a multiple of the patch (16) and a grid that is not 14x14; CNNs just small.
CNN_SIZE, VIT_SIZE = 32, 48


def _family(model: nn.Module) -> str | None:
    try:
        return model_info(model).family
    except MissingModelInfoError:
        return None


@lru_cache(maxsize=None)
def build_small_model(architecture_name: str, plugins: tuple[Any, ...] = ()) -> tuple[nn.Module, int]:
    """A random-init model of a registered architecture and its input size (cached).

    The family is the built model's ModelInfo's, so a ViT is built once at the CNN size
    to learn that it is one, then again at the ViT size.
    """
    spec = contract_registry(plugins).architectures.get(architecture_name)
    torch.manual_seed(0)
    model, size = spec.build(2, CNN_SIZE), CNN_SIZE
    if _family(model) == "vit":
        torch.manual_seed(0)
        model, size = spec.build(2, VIT_SIZE), VIT_SIZE
    return model, size


def small_context(count: int, size: int, seed: int, generator: torch.Generator) -> ExplainContext:
    """Random planes of ``count`` images as the harness passes them: a vessel plane in
    [0, 1], a localization target and the tortuous vessel pixels inside it."""
    vessels = torch.rand(count, size, size, generator=generator)
    masks = torch.rand(count, size, size, generator=generator) < 0.3
    return ExplainContext(seed=seed, vessels=vessels, masks=masks, tortuous_vessels=masks & vessel_pixels(vessels))


def _rows(context: ExplainContext, rows: slice) -> ExplainContext:
    def cut(plane: torch.Tensor | None) -> torch.Tensor | None:
        return None if plane is None else plane[rows]

    return ExplainContext(context.seed, cut(context.vessels), cut(context.masks), cut(context.tortuous_vessels))


def model_fingerprint(model: nn.Module) -> dict[str, Any]:
    """Everything an explainer must leave unchanged, in comparable form."""
    modules = list(model.modules())
    return {
        "state": {name: value.detach().clone() for name, value in model.state_dict().items()},
        "training": [m.training for m in modules],
        "requires_grad": [p.requires_grad for p in model.parameters()],
        "grads": [p.grad is None for p in model.parameters()],
        "hooks": [
            len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks)
            + len(getattr(m, "_backward_pre_hooks", {}))
            for m in modules
        ],
        "fused_attn": [getattr(m, "fused_attn", None) for m in modules],
    }


@dataclass(frozen=True)
class _Explained:
    batch: torch.Tensor
    batch_again: torch.Tensor
    one_by_one: torch.Tensor
    size: int
    before: dict[str, Any]
    after: dict[str, Any]


class ExplainerContract:
    """Base class of explainer conformance tests (see the module docstring)."""

    explainer_name: ClassVar[str] = ""
    architecture_names: ClassVar[tuple[str, ...] | None] = None
    params: ClassVar[dict[str, Any]] = {}
    batch_size: ClassVar[int] = 2
    seed: ClassVar[int] = 7
    plugins: ClassVar[tuple[Any, ...]] = ()  # plugin modules (or dotted names) to register in-process
    # execution param -> the two values whose maps must agree (default rule: see above).
    execution_param_values: ClassVar[dict[str, tuple[Any, Any]]] = {}
    # Batch size changes the kernels' summation order; gradient means then differ in
    # the last bits, relative to the largest value rather than to each pixel.
    rtol: ClassVar[float] = 1e-3
    atol_fraction: ClassVar[float] = 1e-3  # of the batch's largest absolute value

    _cache: ClassVar[dict[tuple[str, str, str], _Explained]] = {}

    def pytest_generate_tests(self, metafunc: Any) -> None:
        if "architecture_name" not in metafunc.fixturenames:
            return
        registry = contract_registry(self.plugins)
        spec = registry.explainers.get(self.explainer_name)
        wanted = self.architecture_names or DEFAULT_ARCHITECTURES
        names = [n for n in wanted if n in registry.architectures
                 and spec.supports(build_small_model(n, tuple(self.plugins))[0])]
        metafunc.parametrize("architecture_name", names or ["<no supported architecture>"])

    def _spec(self) -> ExplainerSpec:
        return contract_registry(self.plugins).explainers.get(self.explainer_name)

    def _inputs(self, architecture_name: str) -> tuple[nn.Module, torch.Tensor, torch.Tensor, ExplainContext, int]:
        if architecture_name == "<no supported architecture>":
            raise AssertionError(f"{self.explainer_name} supports none of the chosen architectures")
        model, size = build_small_model(architecture_name, tuple(self.plugins))
        generator = torch.Generator().manual_seed(1234)
        pixels = torch.randint(0, 256, (self.batch_size, 3, size, size), generator=generator, dtype=torch.uint8)
        targets = torch.arange(self.batch_size) % 2
        context = small_context(self.batch_size, size, self.seed, generator)
        return model, to_model_input(pixels), targets, context, size

    def _explain(self, architecture_name: str) -> _Explained:
        key = (self.explainer_name, architecture_name, json.dumps(self.params, sort_keys=True))
        if key not in self._cache:
            spec = self._spec()
            model, images, targets, context, size = self._inputs(architecture_name)
            model.train()  # the harness may hand over any mode: it must come back unchanged
            params = {**spec.params, **self.params}
            before = model_fingerprint(model)

            def explain(rows: slice) -> torch.Tensor:
                return spec.explain(model, images[rows], targets[rows], _rows(context, rows), **params)

            batch = explain(slice(None))
            batch_again = explain(slice(None))
            one_by_one = torch.cat([explain(slice(i, i + 1)) for i in range(self.batch_size)])
            after = model_fingerprint(model)
            model.eval()
            self._cache[key] = _Explained(batch, batch_again, one_by_one, size, before, after)
        return self._cache[key]

    def _execution_values(self, name: str, value: Any) -> tuple[Any, Any]:
        return execution_value_pair(name, value, self.execution_param_values, "maps")

    def test_params_are_json_serialisable(self) -> None:
        spec = self._spec()
        assert json.loads(json.dumps(dict(spec.params))) == dict(spec.params)
        assert set(self.params) <= set(spec.params), "overrides must name declared params"
        assert spec.execution_params <= set(spec.params), "execution_params must name declared params"
        assert isinstance(spec.control, bool)

    def test_shape_dtype_and_finite(self, architecture_name: str) -> None:
        result = self._explain(architecture_name)
        assert result.batch.shape == (self.batch_size, result.size, result.size)
        assert result.batch.dtype == torch.float32
        assert torch.isfinite(result.batch).all()

    def test_deterministic_under_seed(self, architecture_name: str) -> None:
        result = self._explain(architecture_name)
        torch.testing.assert_close(result.batch, result.batch_again, rtol=0, atol=0)

    def test_batch_invariant(self, architecture_name: str) -> None:
        result = self._explain(architecture_name)
        scale = float(result.batch.abs().max()) or 1.0
        torch.testing.assert_close(
            result.one_by_one, result.batch, rtol=self.rtol, atol=self.atol_fraction * scale
        )

    def test_execution_params_leave_maps_unchanged(self, architecture_name: str) -> None:
        """The promise behind leaving ``execution_params`` out of cache keys."""
        spec = self._spec()
        if not spec.execution_params:
            pytest.skip(f"{self.explainer_name} declares no execution_params")
        model, images, targets, context, _ = self._inputs(architecture_name)
        params = {**spec.params, **self.params}
        for name in sorted(spec.execution_params):
            first, second = self._execution_values(name, params[name])
            maps = [spec.explain(model, images, targets, context, **{**params, name: value}) for value in (first, second)]
            scale = float(maps[0].abs().max()) or 1.0
            torch.testing.assert_close(
                maps[1], maps[0], rtol=self.rtol, atol=self.atol_fraction * scale,
                msg=lambda text: f"{name}={first!r} and {name}={second!r} gave different maps: {text}",
            )

    def test_model_unchanged(self, architecture_name: str) -> None:
        result = self._explain(architecture_name)
        before, after = result.before, result.after
        for key in ("training", "requires_grad", "grads", "hooks", "fused_attn"):
            assert before[key] == after[key], f"explainer changed the model's {key}"
        assert before["state"].keys() == after["state"].keys()
        for name, value in before["state"].items():
            assert torch.equal(value, after["state"][name]), f"explainer changed {name}"
