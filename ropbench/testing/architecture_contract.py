"""Conformance kit for architecture plugins: subclass, name your architecture, run pytest.

::

    from ropbench.testing.architecture_contract import ArchitectureContract

    class TestMyNet(ArchitectureContract):
        architecture_name = "my-net"
        image_size = 32          # optional: keep it small, the tests build the model a few times

Each test builds the model through the registry exactly as the harness does and checks
one promise of the contract: it builds without network, maps float32 [N, 3, H, W] to
finite logits [N, C], is reproducible under a seed, refuses ``pretrained`` without a
local file, and its :class:`~ropbench.modelinfo.ModelInfo` tells explainers the truth.
"""

from __future__ import annotations

import json
import socket
from typing import Any, ClassVar, Mapping

import pytest
import torch
from torch import nn

from ropbench.modelinfo import ModelInfo, model_info
from ropbench.testing.registries import contract_registry
from ropbench.specs import ArchitectureSpec
from ropbench.training.build import build_seeded

__all__ = ["ArchitectureContract"]


def _offline(*_args: Any, **_kwargs: Any) -> None:
    raise AssertionError("the architecture tried to open a network connection while building")


def _output_of(model: nn.Module, layer: str, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(logits, output of ``layer``) of one eval-mode forward pass."""
    captured: list[torch.Tensor] = []
    handle = model.get_submodule(layer).register_forward_hook(lambda _m, _i, out: captured.append(out))
    try:
        with torch.inference_mode():
            logits = model(inputs)
    finally:
        handle.remove()
    return logits, captured[-1]


class ArchitectureContract:
    """Base class of the architecture conformance tests (not collected itself)."""

    architecture_name: ClassVar[str] = ""
    image_size: ClassVar[int] = 32
    batch_size: ClassVar[int] = 2
    num_classes: ClassVar[int] = 2
    # Large models: skip building a third copy to show that another seed changes weights.
    heavy: ClassVar[bool] = False
    # Overrides of the spec's default params (e.g. {"model_name": "resnet10t"} for timm:*).
    params: ClassVar[Mapping[str, Any]] = {}
    plugins: ClassVar[tuple[Any, ...]] = ()  # plugin modules (or dotted names) to register in-process

    # -- helpers ---------------------------------------------------------------------
    @pytest.fixture(scope="class")
    @classmethod
    def spec(cls) -> ArchitectureSpec:
        if not cls.architecture_name:
            pytest.skip("set architecture_name on the ArchitectureContract subclass")
        return contract_registry(cls.plugins).architectures.get(cls.architecture_name)

    @classmethod
    def _build(cls, spec: ArchitectureSpec, seed: int = 0, **overrides: Any) -> nn.Module:
        params = {**spec.params, **cls.params, **overrides}
        return build_seeded(spec, cls.num_classes, cls.image_size, params, seed).eval()

    def _inputs(self, seed: int = 0) -> torch.Tensor:
        generator = torch.Generator().manual_seed(seed)
        return torch.rand(self.batch_size, 3, self.image_size, self.image_size, generator=generator) * 2 - 1

    @pytest.fixture(scope="class")
    @classmethod
    def model(cls, spec: ArchitectureSpec) -> nn.Module:
        """Built once per class with the network cut off; tests only read it (eval mode)."""
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(socket.socket, "connect", _offline)
            return cls._build(spec)

    # -- the contract ------------------------------------------------------------------
    def test_params_are_json_and_complete(self, spec: ArchitectureSpec) -> None:
        json.dumps(dict(spec.params))
        assert spec.params.get("pretrained") is False
        assert spec.params.get("weights") == ""

    def test_builds_without_network(self, model: nn.Module) -> None:
        assert isinstance(model, nn.Module)
        assert sum(p.numel() for p in model.parameters()) > 0

    def test_pretrained_without_weights_fails_at_once(
        self, spec: ArchitectureSpec, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(socket.socket, "connect", _offline)
        with pytest.raises(Exception, match="weights"):
            self._build(spec, pretrained=True, weights="")

    def test_forward_shape_and_finite(self, model: nn.Module) -> None:
        with torch.inference_mode():
            logits = model(self._inputs())
        assert logits.shape == (self.batch_size, self.num_classes)
        assert logits.dtype == torch.float32
        assert torch.isfinite(logits).all()

    def test_deterministic_under_seed(self, spec: ArchitectureSpec, model: nn.Module) -> None:
        again = self._build(spec, 0)
        inputs = self._inputs()
        with torch.inference_mode():
            assert torch.equal(model(inputs), again(inputs))
        if self.heavy:
            return
        other = self._build(spec, 1)
        state, other_state = model.state_dict(), other.state_dict()
        assert any(not torch.equal(state[k], other_state[k]) for k in state if state[k].is_floating_point())

    def test_model_info_present(self, model: nn.Module, spec: ArchitectureSpec) -> None:
        info = model_info(model)
        assert isinstance(info, ModelInfo)
        assert info.family in ("cnn", "vit", "probe")
        if info.family == "probe":
            return  # a control classifier: no target layer, no explainers
        model.get_submodule(info.target_layer)
        for name in info.attention_layers:
            assert hasattr(model.get_submodule(name), "attn_drop"), name

    def test_target_layer_output(self, model: nn.Module) -> None:
        info = model_info(model)
        if info.family == "probe":
            pytest.skip("a control classifier (family probe) has no target layer")
        _, features = _output_of(model, info.target_layer, self._inputs())
        if info.family == "cnn":
            assert features.dim() == 4 and features.shape[0] == self.batch_size
        else:
            rows, cols = info.token_grid
            assert features.shape[:2] == (self.batch_size, info.num_prefix_tokens + rows * cols)

    def test_vit_token_grid_and_prefix(self, model: nn.Module) -> None:
        info = model_info(model)
        if info.family != "vit":
            pytest.skip(f"a {info.family} model has no token grid")
        assert info.patch_size and info.token_grid == (self.image_size // info.patch_size,) * 2
        timm_prefix = [m.num_prefix_tokens for m in model.modules() if hasattr(m, "num_prefix_tokens")]
        assert timm_prefix and info.num_prefix_tokens == timm_prefix[0]
        assert info.attention_layers, "a ViT must list its attention layers"

    def test_classifier_is_linear_on_pooled_target(self, model: nn.Module) -> None:
        info = model_info(model)
        if info.classifier is None:
            pytest.skip("no GAP -> linear head declared")
        classifier = model.get_submodule(info.classifier)
        assert isinstance(classifier, nn.Linear)
        logits, features = _output_of(model, info.target_layer, self._inputs())
        # The claim CAM relies on: logits are exactly the classifier on the pooled target map.
        expected = classifier(features.mean(dim=(2, 3)))
        torch.testing.assert_close(logits, expected, rtol=1e-4, atol=1e-5)
