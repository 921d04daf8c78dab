"""docs/plugins.md cannot drift: every hook documented once with its exact signature,
every spec field named in its hook's section."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import re
from pathlib import Path

import pytest

from ropbench import hookspecs, specs
from ropbench.modelinfo import ModelInfo

DOC = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"
HOOKS = {name: function for name, function in vars(hookspecs).items()
         if callable(function) and getattr(function, f"{hookspecs.PROJECT_NAME}_spec", None) is not None}
# Which dataclasses each hook's section must describe field by field.
SECTION_TYPES = {
    "ropbench_register_generators": (specs.GeneratorSpec, specs.RetinaBatch),
    "ropbench_register_architectures": (specs.ArchitectureSpec, ModelInfo),
    "ropbench_register_explainers": (specs.ExplainerSpec, specs.ExplainContext),
    "ropbench_register_metrics": (specs.MetricSpec, specs.ScoringContext),
    "ropbench_register_executors": (specs.ExecutorSpec,),
    "ropbench_register_reporters": (specs.ReporterSpec,),
}


def _normalised(annotation: str | None) -> str | None:
    return None if annotation is None else ast.unparse(ast.parse(annotation, mode="eval"))


def documented_signatures(text: str) -> dict[str, list[ast.FunctionDef]]:
    """Every ``def ropbench_*`` in the doc's ```python blocks, by name (duplicates kept)."""
    found: dict[str, list[ast.FunctionDef]] = {}
    for block in re.findall(r"```python\n(.*?)```", text, re.S):
        for line in block.splitlines():
            if line.startswith("def ropbench_"):
                tree = ast.parse(line.rstrip() + "\n    ...\n")
                function = tree.body[0]
                found.setdefault(function.name, []).append(function)
    return found


def described(function: ast.FunctionDef) -> tuple[list[tuple[str, str | None, str | None]], str | None]:
    """((name, annotation, default) per parameter, return annotation) of a parsed def."""
    arguments = function.args
    positional = arguments.posonlyargs + arguments.args
    defaults = [None] * (len(positional) - len(arguments.defaults)) + [ast.unparse(d) for d in arguments.defaults]
    parameters = [(a.arg, _normalised(ast.unparse(a.annotation)) if a.annotation else None, d)
                  for a, d in zip(positional, defaults)]
    parameters += [(a.arg, _normalised(ast.unparse(a.annotation)) if a.annotation else None,
                    ast.unparse(d) if d is not None else None)
                   for a, d in zip(arguments.kwonlyargs, arguments.kw_defaults)]
    returns = _normalised(ast.unparse(function.returns)) if function.returns else None
    return parameters, returns


def actual(function) -> tuple[list[tuple[str, str | None, str | None]], str | None]:
    """The same description from the hookspec (annotations are strings: PEP 563)."""
    signature = inspect.signature(function)
    parameters = [(p.name, _normalised(p.annotation) if p.annotation is not p.empty else None,
                   None if p.default is p.empty else repr(p.default)) for p in signature.parameters.values()]
    returns = None if signature.return_annotation is signature.empty else _normalised(signature.return_annotation)
    return parameters, returns


def _section(text: str, hook: str) -> str:
    start = text.index(f"### {hook}\n")
    following = re.search(r"\n##+ ", text[start + 4:])
    return text[start: start + 4 + following.start()] if following else text[start:]


def test_the_core_has_hooks():
    assert len(HOOKS) >= 7 and "ropbench_task_finished" in HOOKS


@pytest.mark.parametrize("hook", sorted(HOOKS))
def test_hook_documented_once_with_its_exact_signature(hook):
    documented = documented_signatures(DOC.read_text(encoding="utf-8"))
    assert hook in documented, f"{hook} is not documented in {DOC.name} (add a ```python block)"
    assert len(documented[hook]) == 1, f"{hook} is documented {len(documented[hook])} times"
    assert described(documented[hook][0]) == actual(HOOKS[hook]), (
        f"{DOC.name} documents {hook} with a signature different from ropbench/hookspecs.py: "
        f"def {hook}{inspect.signature(HOOKS[hook])}")


def test_no_documented_hook_is_unknown():
    unknown = set(documented_signatures(DOC.read_text(encoding="utf-8"))) - set(HOOKS)
    assert not unknown, f"{DOC.name} documents hooks that do not exist: {sorted(unknown)}"


COMMON = {f.name for f in dataclasses.fields(specs.PluginSpec)}


@pytest.mark.parametrize("hook", sorted(SECTION_TYPES))
def test_every_spec_field_named_in_its_section(hook):
    """Each hook's section names its own fields; the fields every spec shares are named
    once, in the common section."""
    section = _section(DOC.read_text(encoding="utf-8"), hook)
    for kind in SECTION_TYPES[hook]:
        own = [f.name for f in dataclasses.fields(kind) if not (issubclass(kind, specs.PluginSpec) and f.name in COMMON)]
        missing = [name for name in own if f"`{name}`" not in section]
        assert not missing, f"{DOC.name} section {hook} does not name {kind.__name__} fields {missing}"


def test_every_common_spec_field_named_once_in_the_rules():
    text = DOC.read_text(encoding="utf-8")
    rules = text[text.index("## Rules every spec follows"):text.index("## Registration hooks")]
    missing = sorted(name for name in COMMON if f"`{name}`" not in rules)
    assert not missing, f"{DOC.name} 'Rules every spec follows' does not name PluginSpec fields {missing}"


def test_every_kit_contract_setting_is_documented():
    """Each contract's settings (its ClassVar attributes) appear in the kit table."""
    import typing

    import ropbench.testing as kit

    text = DOC.read_text(encoding="utf-8")
    table = text[text.index("## Testing a plugin"):]
    for name in kit.CONTRACTS:
        contract = getattr(kit, name)
        hints = typing.get_type_hints(contract)
        settings = sorted(k for k, v in hints.items() if not k.startswith("_")
                          and getattr(v, "__origin__", None) is typing.ClassVar)
        row = next(line for line in table.splitlines() if line.startswith(f"| `{name}`"))
        missing = [s for s in settings if f"`{s}`" not in row]
        assert not missing, f"{DOC.name}: the {name} row does not list its settings {missing}"


def test_every_registration_hook_has_a_section_type():
    registration = {name for name in HOOKS if name.startswith("ropbench_register_")}
    assert registration == set(SECTION_TYPES), "a new registration hook needs its spec listed here"


def test_the_checker_catches_a_wrong_signature():
    wrong = documented_signatures("```python\ndef ropbench_task_finished(stage: str, label: str) -> None:\n```")
    assert described(wrong["ropbench_task_finished"][0]) != actual(HOOKS["ropbench_task_finished"])
    renamed = documented_signatures(
        "```python\ndef ropbench_register_metrics() -> list[MetricSpecs]:\n```")
    assert described(renamed["ropbench_register_metrics"][0]) != actual(HOOKS["ropbench_register_metrics"])
