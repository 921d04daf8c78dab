"""The conformance kit's own checks fail when a spec breaks the promise they guard."""

from __future__ import annotations

import pytest

from ropbench.explaining import any_model
from ropbench.specs import ExplainerSpec
from ropbench.testing.explainer_contract import ExplainerContract


def chunked_mean(model, images, targets, context, *, chunk: int = 4, scale_by_chunk: bool = False):
    """Channel mean; ``scale_by_chunk`` makes the 'execution' parameter leak into the map."""
    maps = images.mean(dim=1)
    return maps * chunk if scale_by_chunk else maps


def kit_for(spec: ExplainerSpec, **attributes) -> ExplainerContract:
    kit = type("Kit", (ExplainerContract,), {"explainer_name": spec.name, **attributes})()
    kit._spec = lambda: spec  # not registered: hand the kit the spec directly
    return kit


def spec_with(params: dict, execution_params: frozenset) -> ExplainerSpec:
    return ExplainerSpec(name="chunked-mean", explain=chunked_mean, supports=any_model, params=params,
                         execution_params=execution_params)


def test_execution_param_check_passes_an_honest_spec():
    kit = kit_for(spec_with({"chunk": 4, "scale_by_chunk": False}, frozenset({"chunk"})))
    kit.test_execution_params_leave_maps_unchanged("seed-cnn")


def test_execution_param_check_catches_a_param_that_changes_the_map():
    kit = kit_for(spec_with({"chunk": 4, "scale_by_chunk": True}, frozenset({"chunk"})))
    with pytest.raises(AssertionError, match="chunk=4 and chunk=1 gave different maps"):
        kit.test_execution_params_leave_maps_unchanged("seed-cnn")


def test_execution_param_without_a_default_rule_asks_for_values():
    kit = kit_for(spec_with({"chunk": 4, "scale_by_chunk": False}, frozenset({"scale_by_chunk"})))
    with pytest.raises(AssertionError, match="set execution_param_values"):
        kit.test_execution_params_leave_maps_unchanged("seed-cnn")
    kit = kit_for(spec_with({"chunk": 4, "scale_by_chunk": False}, frozenset({"scale_by_chunk"})),
                  execution_param_values={"scale_by_chunk": (False, True)})
    with pytest.raises(AssertionError, match="gave different maps"):
        kit.test_execution_params_leave_maps_unchanged("seed-cnn")


def test_execution_params_must_be_declared_params():
    kit = kit_for(spec_with({"chunk": 4}, frozenset({"batch_size"})))
    with pytest.raises(AssertionError, match="execution_params must name declared params"):
        kit.test_params_are_json_serialisable()


def test_spec_without_execution_params_is_skipped():
    kit = kit_for(spec_with({"chunk": 4}, frozenset()))
    with pytest.raises(pytest.skip.Exception):
        kit.test_execution_params_leave_maps_unchanged("seed-cnn")
