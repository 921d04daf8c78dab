"""Registry: flattening, duplicates naming both plugins, did-you-mean, globs, timm:<name>."""

from __future__ import annotations

import dataclasses
import types

import pytest

from ropbench import hookimpl

from ropbench.errors import DuplicateNameError, RopbenchError, UnknownNameError
from ropbench.registry import RegistrationError, natural_key
from ropbench.specs import ArchitectureSpec
from tests.core.conftest import explainer_spec, generator_spec, make_plugin


def test_specs_from_several_plugins_are_flattened_with_their_provider(registry_of):
    first = make_plugin("first", ropbench_register_generators=lambda: [generator_spec("alpha")])
    second = make_plugin("second", ropbench_register_generators=lambda: [generator_spec("beta")])
    registry = registry_of(first, second)
    assert list(registry.generators) == ["alpha", "beta"]
    assert registry.generators.providers == {"alpha": "first", "beta": "second"}


def test_duplicate_names_are_rejected_naming_both_plugins(registry_of):
    first = make_plugin("plugin_one", ropbench_register_explainers=lambda: [explainer_spec("gradcam")])
    second = make_plugin("plugin_two", ropbench_register_explainers=lambda: [explainer_spec("gradcam")])
    with pytest.raises(DuplicateNameError) as caught:
        registry_of(first, second).explainers
    message = str(caught.value)
    assert "plugin_one" in message and "plugin_two" in message and "'gradcam'" in message


def test_unknown_name_suggests_close_matches_and_lists_available(registry_of):
    plugin = make_plugin("p", ropbench_register_explainers=lambda: [explainer_spec("gradcam"),
                                                                    explainer_spec("scorecam")])
    with pytest.raises(UnknownNameError) as caught:
        registry_of(plugin).explainers.get("gradcma")
    message = str(caught.value)
    assert "did you mean 'gradcam'" in message
    assert "available: gradcam, scorecam" in message


def test_glob_selection_is_natural_sorted_and_unique(registry_of):
    names = ["vit_small_patch16", "vit_small_patch8", "resnet18", "vit_tiny_patch16"]
    plugin = make_plugin("p", ropbench_register_explainers=lambda: [explainer_spec(n) for n in names])
    table = registry_of(plugin).explainers
    chosen = [s.name for s in table.select(["vit_*", "vit_small_patch8"])]
    assert chosen == ["vit_small_patch8", "vit_small_patch16", "vit_tiny_patch16"]
    with pytest.raises(UnknownNameError):
        table.select(["convnext*"])


def test_a_plugin_that_raises_while_registering_is_named(registry_of):
    def broken():
        raise ValueError("boom")

    plugin = make_plugin("broken_plugin", ropbench_register_generators=broken)
    with pytest.raises(RopbenchError, match="broken_plugin.*ValueError: boom"):
        registry_of(plugin).generators


def test_a_plugin_returning_the_wrong_spec_type_is_named(registry_of):
    plugin = make_plugin("confused", ropbench_register_generators=lambda: [explainer_spec("x")])
    with pytest.raises(RegistrationError, match="confused.*ExplainerSpec"):
        registry_of(plugin).generators


def test_wildcard_spec_resolves_prefixed_names(registry_of):
    spec = ArchitectureSpec(name="timm:*", build=lambda *a, **k: None,
                            params={"model_name": "", "pretrained": False})
    plain = ArchitectureSpec(name="plain-cnn", build=lambda *a, **k: None)
    table = registry_of(make_plugin("p", ropbench_register_architectures=lambda: [spec, plain])).architectures
    resolved = table.get("timm:mobilenetv3_small_050")
    assert resolved.name == "timm:mobilenetv3_small_050"
    assert resolved.params == {"model_name": "mobilenetv3_small_050", "pretrained": False}
    assert [s.name for s in table.select(["*"])] == ["plain-cnn"]  # the resolver is no glob member
    with pytest.raises(UnknownNameError):
        table.get("other:thing")


def test_natural_key_orders_numbers_numerically():
    assert sorted(["p16", "p8", "p100"], key=natural_key) == ["p8", "p16", "p100"]


def test_a_spec_replaces_another_only_when_it_says_so(registry_of):
    builtin = make_plugin("builtin_like", ropbench_register_explainers=lambda: [explainer_spec("gradcam")])
    replacement = dataclasses.replace(explainer_spec("gradcam"), description="mine", replaces=True)
    third = make_plugin("third_party", ropbench_register_explainers=lambda: [replacement])
    for order in ((builtin, third), (third, builtin)):  # registration order does not matter
        table = registry_of(*order).explainers
        assert table.get("gradcam").description == "mine"
        assert table.providers["gradcam"] == "third_party"
        assert table.replaced == {"gradcam": "builtin_like"}


def test_replaces_without_anything_to_replace_is_an_error(registry_of):
    lonely = dataclasses.replace(explainer_spec("gradcma"), replaces=True)
    plugin = make_plugin("typo_replacer", ropbench_register_explainers=lambda: [lonely])
    with pytest.raises(RegistrationError, match="typo_replacer.*no other plugin registers"):
        registry_of(plugin).explainers


def test_registration_goes_through_pluggy_so_wrappers_apply(registry_of):
    """A hook wrapper sees and may edit every plugin's specs (here: drops one)."""
    plugin = make_plugin("many", ropbench_register_explainers=lambda: [explainer_spec("a"), explainer_spec("b")])

    def drop_b():
        results = yield
        return [[s for s in specs if s.name != "b"] for specs in results]

    wrapper = types.ModuleType("wrapper_plugin")
    wrapper.ropbench_register_explainers = hookimpl(wrapper=True)(drop_b)
    assert list(registry_of(plugin, wrapper).explainers) == ["a"]
