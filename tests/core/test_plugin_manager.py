"""Plugin manager: built-ins like third parties, environment switches, plugins that
cannot load (reported by name, never fatal to other commands)."""

from __future__ import annotations

import sys

import pytest

from ropbench.pluginmanager import (
    BUILTIN_PLUGINS,
    DISABLE_ENV,
    NO_AUTOLOAD_ENV,
    PluginLoadError,
    create_plugin_manager,
)
from ropbench.registry import Registry


def test_every_builtin_is_registered_by_dotted_name():
    manager, loaded, broken = create_plugin_manager()
    names = [p.name for p in loaded]
    assert broken == []
    for builtin in BUILTIN_PLUGINS:
        assert manager.has_plugin(builtin)
        assert builtin in names


def test_builtins_are_feature_sized_so_one_can_be_disabled_alone(monkeypatch):
    monkeypatch.setenv(DISABLE_ENV, "ropbench_plugins.executors.ray_executor")
    registry = Registry.load()
    assert "local" in registry.executors and "ray" not in registry.executors
    assert "markdown" in registry.reporters  # other built-ins untouched


def test_disable_switch_skips_named_plugins(monkeypatch):
    monkeypatch.setenv(DISABLE_ENV, "ropbench_plugins.explainers.gradients, ropbench_plugins.metrics.sanity")
    manager, _, _ = create_plugin_manager()
    assert not manager.has_plugin("ropbench_plugins.explainers.gradients")
    assert not manager.has_plugin("ropbench_plugins.metrics.sanity")
    assert manager.has_plugin("ropbench_plugins.explainers.cam")
    registry = Registry.load()
    assert "gradcam" in registry.explainers and "integrated-gradients" not in registry.explainers


def test_autoload_switch_skips_entry_points(monkeypatch):
    calls = []
    monkeypatch.setenv(NO_AUTOLOAD_ENV, "1")
    import importlib.metadata

    monkeypatch.setattr(importlib.metadata, "entry_points", lambda **kw: calls.append(kw) or [])
    create_plugin_manager(builtins=())
    assert calls == []


def test_a_plugin_that_fails_to_import_is_reported_not_fatal(tmp_path, monkeypatch):
    (tmp_path / "exploding_plugin.py").write_text("import this_module_does_not_exist\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    manager, loaded, broken = create_plugin_manager(builtins=("exploding_plugin", "ropbench_plugins.generators"))
    assert [p.name for p in loaded] == ["ropbench_plugins.generators"]  # the others still load
    assert [b.name for b in broken] == ["exploding_plugin"]
    warning = broken[0].warning()
    assert "this_module_does_not_exist" in warning and f"{DISABLE_ENV}=exploding_plugin" in warning
    assert "Traceback" in broken[0].details
    with pytest.raises(PluginLoadError, match="exploding_plugin"):
        create_plugin_manager(builtins=("exploding_plugin",), strict=True)
    sys.modules.pop("exploding_plugin", None)


def test_a_misspelt_hook_is_one_line_with_did_you_mean(tmp_path, monkeypatch):
    (tmp_path / "typo_plugin.py").write_text(
        "from ropbench import hookimpl\n\n@hookimpl\ndef ropbench_register_explainer():\n    return []\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    _, loaded, broken = create_plugin_manager(builtins=("typo_plugin",))
    assert loaded == []
    assert "\n" not in broken[0].warning()
    assert "did you mean 'ropbench_register_explainers'" in broken[0].reason
    sys.modules.pop("typo_plugin", None)


def test_a_hook_without_hookimpl_is_reported(tmp_path, monkeypatch):
    (tmp_path / "bare_plugin.py").write_text("def ropbench_register_metrics():\n    return []\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    _, loaded, broken = create_plugin_manager(builtins=("bare_plugin",))
    assert loaded == [] and "lacks the @hookimpl decorator" in broken[0].reason
    sys.modules.pop("bare_plugin", None)
