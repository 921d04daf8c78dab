"""Plugin manager: built-ins like third parties, environment switches, import failures."""

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


def test_every_builtin_is_registered_by_dotted_name():
    manager, loaded = create_plugin_manager()
    names = [p.name for p in loaded]
    for builtin in BUILTIN_PLUGINS:
        assert manager.has_plugin(builtin)
        assert builtin in names


def test_disable_switch_skips_named_plugins(monkeypatch):
    monkeypatch.setenv(DISABLE_ENV, "ropbench_plugins.explainers, ropbench_plugins.metrics")
    manager, loaded = create_plugin_manager()
    assert not manager.has_plugin("ropbench_plugins.explainers")
    assert not manager.has_plugin("ropbench_plugins.metrics")
    assert manager.has_plugin("ropbench_plugins.generators")


def test_autoload_switch_skips_entry_points(monkeypatch):
    calls = []
    monkeypatch.setenv(NO_AUTOLOAD_ENV, "1")
    import importlib.metadata

    monkeypatch.setattr(importlib.metadata, "entry_points", lambda **kw: calls.append(kw) or [])
    create_plugin_manager(builtins=())
    assert calls == []


def test_a_plugin_that_fails_to_import_is_reported_with_name_and_traceback(tmp_path, monkeypatch):
    (tmp_path / "exploding_plugin.py").write_text("import this_module_does_not_exist\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(PluginLoadError) as caught:
        create_plugin_manager(builtins=("exploding_plugin",))
    message = str(caught.value)
    assert "exploding_plugin" in message
    assert "Traceback" in message and "this_module_does_not_exist" in message
    sys.modules.pop("exploding_plugin", None)
