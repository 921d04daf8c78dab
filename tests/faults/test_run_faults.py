"""The fault trial's cases about suites, runs, plugins and the CLI, each by its ID
(../shared/reviews/fault-trial-afebf7a.md; the plugin-author trial's G/E/M cases too).

Standard: the error names the file, suite key, plugin or row at fault and what was
expected; exit 2 for bad input; no raw traceback; nothing silently wrong; results
already computed are kept. Cache cases C01-C06 are in tests/e2e/test_cache.py (every
file kind deleted or garbled heals), the stale-dataset cases D20/D21 in
tests/e2e/test_dataset_cache.py, dataset and check cases in this folder's siblings.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch

from ropbench.cli.main import main
from ropbench.errors import RopbenchError
from ropbench.registry import Registry, activated
from ropbench.runner import run_suite
from ropbench.specs import ExplainerSpec, GeneratorSpec, MetricSpec
from ropbench.suite import SuiteError, load_suite
from ropbench.testing import make_plugin
from tests.e2e.conftest import ROPBENCH, run_cli

TINY = """
name = "tiny"
seeds = [0]
image_size = 32
generators = [{generator}]
architectures = ["seed-cnn"]
explainers = [{explainers}]
metrics = [{metrics}]
{extra}
[data]
train = 16
val = 8
test = 8

[training]
epochs = {epochs}
batch_size = 8
"""


def suite_file(tmp_path: Path, *, generator='"rw-classic"', explainers='"random"', metrics='"accuracy"',
               epochs="1", extra="", training_extra="") -> Path:
    path = tmp_path / "suite.toml"
    text = TINY.format(generator=generator, explainers=explainers, metrics=metrics, epochs=epochs, extra=extra)
    path.write_text(textwrap.dedent(text) + training_extra)
    return path


def load_error(path: Path, registry: Registry | None = None) -> str:
    with pytest.raises(SuiteError) as caught:
        load_suite(str(path), registry or Registry.load())
    return str(caught.value)


def _run(path: Path, tmp_path: Path, registry: Registry):
    return run_suite(load_suite(str(path), registry), registry, cache_dir=tmp_path / "cache",
                     run_dir=tmp_path / "run", verbose=False)


# -- suites: checked when they load, naming file and key ------------------------------------


@pytest.mark.parametrize(("case", "training", "key", "expected"), [
    ("S13", 'epochs = "1"', "architectures[0].training.epochs", "valid integer"),
    ("S14", 'learning_rate = "1e-3"', "architectures[0].training.learning_rate", "valid number"),
    ("S15", "batch_size = 0", "architectures[0].training.batch_size", "greater than or equal to 1"),
])
def test_S13_S14_S15_per_entry_training_values_are_checked_at_load(tmp_path, case, training, key, expected):
    path = tmp_path / "suite.toml"
    path.write_text(TINY.format(generator='"rw-classic"', explainers='"random"', metrics='"accuracy"', epochs="1",
                                extra="").replace('architectures = ["seed-cnn"]',
                                                  f'architectures = [{{ name = "seed-cnn", training = {{ {training} }} }}]'))
    message = load_error(path)
    assert str(path) in message and f": {key}: " in message and expected in message, case


def test_S16_negative_epochs_are_refused_not_an_untrained_model(tmp_path):
    message = load_error(suite_file(tmp_path, epochs="-1"))
    assert ": training.epochs: " in message and "greater than or equal to 1" in message


def test_S20_an_absurd_image_size_is_refused_at_load(tmp_path):
    path = suite_file(tmp_path)
    path.write_text(path.read_text().replace("image_size = 32", "image_size = 100000"))
    assert ": image_size: expected at most 1024 pixels" in load_error(path)


def test_S25_heatmap_metrics_without_explainers_are_refused(tmp_path):
    path = suite_file(tmp_path, metrics='"accuracy", "relevance-mass"')
    path.write_text(path.read_text().replace('explainers = ["random"]', "explainers = []"))
    message = load_error(path)
    assert ": explainers: " in message and "relevance-mass" in message


def test_S28_an_unknown_device_is_named_at_load(tmp_path):
    message = load_error(suite_file(tmp_path, training_extra='device = "tpu"\n'))
    assert ": training.device: " in message and "'cuda'" in message


def test_S30_a_nan_learning_rate_is_named_at_load(tmp_path):
    message = load_error(suite_file(tmp_path, training_extra="learning_rate = nan\n"))
    assert ": training.learning_rate: " in message and "finite" in message


def test_S31_a_generator_parameter_of_the_wrong_type_is_named(tmp_path):
    message = load_error(suite_file(tmp_path, generator='{ name = "rw-classic", params = { max_moves = "lots" } }'))
    assert ": generators[0].params.max_moves: expected a" in message and "'lots'" in message


def test_S32_an_architecture_parameter_of_the_wrong_type_is_named(tmp_path):
    path = suite_file(tmp_path)
    path.write_text(path.read_text().replace('architectures = ["seed-cnn"]',
                                             'architectures = [{ name = "seed-cnn", params = { dropout = "half" } }]'))
    assert ": architectures[0].params.dropout: expected a number" in load_error(path)


# -- runs -----------------------------------------------------------------------------------


def _generator_returning(name: str, change) -> GeneratorSpec:
    from ropbench_plugins.generators import VARIANTS
    from ropbench_plugins.generators.pipeline import generate_variant

    def generate(n, size, seed, start=0):
        return change(generate_variant(VARIANTS[0], n, size, seed, start))

    return GeneratorSpec(name=name, generate=generate)


@pytest.mark.parametrize(("case", "change", "expected"), [
    ("G4", lambda b: dataclasses.replace(b, labels=torch.zeros_like(b.labels)), "ROP iff i is odd"),
    ("G6", lambda b: dataclasses.replace(b, metadata=tuple({"x": __import__("numpy").int64(1)} for _ in b.metadata)),
     "not JSON-serialisable"),
    ("G8", lambda b: dataclasses.replace(b, vessels=b.vessels * 255), "vessel plane outside [0, 1]"),
    ("P06", lambda b: dataclasses.replace(b, labels=b.labels * 3), "expected 0 (healthy) or 1 (ROP)"),
])
def test_G4_G6_G8_P06_a_run_holds_generators_to_the_contract(tmp_path, case, change, expected):
    plugin = make_plugin("bad_generator", ropbench_register_generators=lambda: [_generator_returning("bad-gen", change)])
    registry = Registry.load(extra=(plugin,))
    outcome = _run(suite_file(tmp_path, generator='"bad-gen"'), tmp_path, registry)
    data_failure = next(f for f in outcome.failures if f.stage == "data")
    assert "generator 'bad-gen'" in data_failure.headline and expected in data_failure.headline, case


def _explainer(name: str, explain) -> ExplainerSpec:
    return ExplainerSpec(name=name, explain=explain, supports=lambda model: True)


def _mutating(model, images, targets, context):
    with torch.no_grad():
        next(model.parameters()).zero_()
    return torch.rand(images.shape[0], *images.shape[-2:])


@pytest.mark.parametrize(("case", "explain", "expected"), [
    ("P04", _mutating, "changed the model's parameter or buffer"),
    ("E1", lambda m, x, t, c: torch.rand(x.shape[0], *x.shape[-2:], dtype=torch.float64), "torch.float64 heatmaps"),
    ("E4", lambda m, x, t, c: torch.rand(x.shape[0], 1, *x.shape[-2:]), "returned shape"),
    ("P02", lambda m, x, t, c: torch.full((x.shape[0], *x.shape[-2:]), float("nan")), "non-finite"),
])
def test_P04_E1_E4_P02_a_run_holds_explainers_to_the_contract(tmp_path, case, explain, expected):
    plugin = make_plugin("bad_explainer", ropbench_register_explainers=lambda: [_explainer("bad-map", explain)])
    registry = Registry.load(extra=(plugin,))
    outcome = _run(suite_file(tmp_path, explainers='"bad-map", "random"', metrics='"accuracy", "relevance-mass"'),
                   tmp_path, registry)
    failure = next(f for f in outcome.failures if f.stage == "explain")
    assert "explainer 'bad-map'" in failure.headline and expected in failure.headline, case
    table = (tmp_path / "run" / "results.csv").read_text()
    assert ",random,0,relevance-mass," in table  # the other explainer's results are kept


def _metric(name: str, compute, chance=None, kind="localization") -> MetricSpec:
    return MetricSpec(name=name, kind=kind, higher_is_better=True, compute=compute, chance=chance)


def test_P07_M7_a_metric_out_of_its_bounds_fails_alone(tmp_path):
    plugin = make_plugin("bad_metrics", ropbench_register_metrics=lambda: [
        _metric("infinite", lambda context, seed: torch.full((len(context),), float("inf"))),
        _metric("percent", lambda context, seed: torch.full((len(context),), 14.87)),
    ])
    registry = Registry.load(extra=(plugin,))
    outcome = _run(suite_file(tmp_path, metrics='"accuracy", "relevance-mass", "infinite", "percent"'),
                   tmp_path, registry)
    failure = next(f for f in outcome.failures if f.stage == "score")
    assert "metric 'infinite' raised StageError" in failure.error and "infinite value" in failure.error
    assert "metric 'percent'" in failure.error and "outside its declared bounds [0.0, 1.0]" in failure.error
    assert ",random,0,relevance-mass," in (tmp_path / "run" / "results.csv").read_text()


def test_M5_the_random_control_exposes_a_wrong_chance_formula(tmp_path):
    """A metric whose declared chance is wrong: the random control lands far from it."""
    def mass(context, seed):
        heat, masks = context.heatmaps.flatten(1).double(), context.masks.flatten(1).double()
        return (heat * masks).sum(1) / heat.sum(1)

    wrong = make_plugin("wrong_chance", ropbench_register_metrics=lambda: [
        _metric("my-mass", mass, chance=lambda context, seed: torch.full((len(context),), 0.9, dtype=torch.float64))])
    registry = Registry.load(extra=(wrong,))
    outcome = _run(suite_file(tmp_path, metrics='"accuracy", "relevance-mass", "my-mass"'), tmp_path, registry)
    assert any("metric my-mass" in w and "check its chance formula" in w for w in outcome.warnings)
    assert not any("relevance-mass" in w for w in outcome.warnings)  # the built-in's chance is right
    assert json.loads((tmp_path / "run" / "manifest.json").read_text())["warnings"] == outcome.warnings


def test_M9_a_misspelt_metric_kind_is_refused_naming_the_plugin():
    plugin = make_plugin("typo_kind", ropbench_register_metrics=lambda: [
        MetricSpec(name="x", kind="localisation", higher_is_better=True, compute=None)])
    with pytest.raises(RopbenchError, match="typo_kind.*kind 'localisation'.*did you mean 'localization'"):
        Registry.load(extra=(plugin,)).metrics


def test_D13_a_single_class_test_split_is_warned_about(tmp_path):
    healthy = _generator_returning("x", lambda b: dataclasses.replace(
        b, labels=torch.zeros_like(b.labels), masks=torch.zeros_like(b.masks))).generate
    healthy_only = make_plugin("healthy_only", ropbench_register_generators=lambda: [GeneratorSpec(
        name="all-healthy", source="dataset", params={"path": ""},
        generate=lambda n, size, seed, start=0, path="": healthy(n, size, seed, start))])
    registry = Registry.load(extra=(healthy_only,))
    outcome = _run(suite_file(tmp_path, generator='"all-healthy"', explainers='"random"'), tmp_path, registry)
    assert any("the test split has no ROP images" in w for w in outcome.warnings)


def test_P08_a_plugin_that_fails_to_import_breaks_no_command(tmp_path):
    package = tmp_path / "site"
    (package / "broken_plugin-0.1.dist-info").mkdir(parents=True)
    (package / "broken_plugin-0.1.dist-info" / "METADATA").write_text("Name: broken-plugin\nVersion: 0.1\n")
    (package / "broken_plugin-0.1.dist-info" / "entry_points.txt").write_text("[ropbench]\nbroken = broken_module\n")
    (package / "broken_module.py").write_text("raise ImportError('ropfault: boom at import')\n")
    env = {"PYTHONPATH": str(package), "ROPBENCH_DISABLE_PLUGIN_AUTOLOAD": ""}
    listing = run_cli("plugins", "list", env=env)
    assert listing.returncode == 0, listing.stderr
    assert "plugin 'broken'" in listing.stderr and "ROPBENCH_DISABLE_PLUGINS=broken" in listing.stderr
    assert "Traceback" not in listing.stderr
    assert run_cli("list", "explainers", env=env).returncode == 0


def test_hook_typo_is_one_line_and_plugins_list_still_works(tmp_path):
    package = tmp_path / "site"
    (package / "typo_plugin-0.1.dist-info").mkdir(parents=True)
    (package / "typo_plugin-0.1.dist-info" / "METADATA").write_text("Name: typo-plugin\nVersion: 0.1\n")
    (package / "typo_plugin-0.1.dist-info" / "entry_points.txt").write_text("[ropbench]\ntypo = typo_module\n")
    (package / "typo_module.py").write_text(
        "from ropbench import hookimpl\n\n@hookimpl\ndef ropbench_register_explainer():\n    return []\n")
    listing = run_cli("plugins", "list", env={"PYTHONPATH": str(package)})
    assert listing.returncode == 0
    warnings = [line for line in listing.stderr.splitlines() if "typo" in line]
    assert len(warnings) == 1 and "did you mean 'ropbench_register_explainers'" in warnings[0]


# -- the command line -----------------------------------------------------------------------


def _cli(*args: str) -> tuple[int, str]:
    process = run_cli(*args)
    assert "Traceback" not in process.stderr, process.stderr[-2000:]
    return process.returncode, process.stderr


def test_L01_address_without_ray_says_so(tmp_path):
    code, stderr = _cli("run", "--suite", str(suite_file(tmp_path)), "--address", "10.0.0.1:6379",
                        "--out", str(tmp_path / "r"), "--cache-dir", str(tmp_path / "c"))
    assert code == 2 and "executor 'local' takes no option 'address'" in stderr and "--executor ray" in stderr


def test_L04_out_that_is_a_file_is_refused_before_any_work(tmp_path):
    target = tmp_path / "existing_file.txt"
    target.write_text("keep me")
    code, stderr = _cli("run", "--suite", str(suite_file(tmp_path)), "--out", str(target),
                        "--cache-dir", str(tmp_path / "c"))
    assert code == 2 and "is not a directory" in stderr
    assert target.read_text() == "keep me" and not (tmp_path / "c").exists()


def test_L05_a_reused_run_directory_keeps_nothing_stale(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "report.html").write_text("an older suite's report")
    registry = Registry.load()
    run_suite(load_suite(str(suite_file(tmp_path)), registry), registry, cache_dir=tmp_path / "cache",
              run_dir=out, verbose=False)
    assert not (out / "report.html").exists() and (out / "results.csv").is_file()


def test_L06_a_directory_given_as_suite_is_called_a_directory(tmp_path):
    code, stderr = _cli("run", "--suite", str(tmp_path))
    assert code == 2 and "is a directory" in stderr


def test_L08_a_non_positive_thread_count_is_bad_input(tmp_path):
    code, stderr = _cli("run", "--suite", str(suite_file(tmp_path)), "--threads", "-2")
    assert code == 2 and "--threads must be at least 1" in stderr


def test_L09_negative_seeds_are_refused_like_in_a_suite(tmp_path):
    code, stderr = _cli("run", "--suite", str(suite_file(tmp_path)), "--seeds", "-1")
    assert code == 2 and "--seeds must be integers >= 0" in stderr


def test_R12_a_cut_results_table_is_bad_input(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "results.csv").write_text("suite,generator,architecture\nx,y,z\n")
    for command in ("leaderboard", "report"):
        code, stderr = _cli(command, str(run))
        assert code == 2 and "is not a ropbench results table" in stderr, command


# -- interruption ---------------------------------------------------------------------------


def _start(tmp_path: Path, epochs: str) -> subprocess.Popen:
    path = suite_file(tmp_path, epochs=epochs, explainers='"random"', metrics='"accuracy", "relevance-mass"')
    return subprocess.Popen([*ROPBENCH, "run", "--suite", str(path), "--cache-dir", str(tmp_path / "cache"),
                             "--out", str(tmp_path / "run")], stderr=subprocess.PIPE, text=True,
                            env={**os.environ}, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def _wait_for(cache: Path, namespace: str, process: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline and process.poll() is None:
        if list((cache / namespace).rglob("*.pt")):
            return
        time.sleep(0.1)
    raise AssertionError(f"no {namespace} entry appeared")


def test_I03_I04_sigterm_writes_a_partial_run_that_says_it_is_partial(tmp_path):
    process = _start(tmp_path, epochs="200")  # training long enough to be interrupted
    _wait_for(tmp_path / "cache", "data", process)
    time.sleep(1.0)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 130, stderr[-2000:]
    assert "interrupted: finished stages are cached" in stderr
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["interrupted"] is True
    assert "PARTIAL: this run was interrupted" in (tmp_path / "run" / "leaderboard.md").read_text()


def test_main_returns_2_without_traceback_for_ropbench_errors(capsys, tmp_path):
    assert main(["run", "--suite", str(tmp_path / "missing.toml")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_in_process_plugins_reach_stages_through_the_activated_registry(tmp_path):
    """Not a trial case: the mechanism the tests above rely on, checked directly."""
    plugin = make_plugin("only_here", ropbench_register_explainers=lambda: [
        _explainer("here-map", lambda m, x, t, c: torch.rand(x.shape[0], *x.shape[-2:]))])
    with activated(Registry.load(extra=(plugin,))) as registry:
        assert "here-map" in registry.explainers
    assert sys.modules.get("only_here") is None


def test_L11_a_generate_parameter_of_the_wrong_type_is_named(tmp_path):
    code, stderr = _cli("generate", "rw-classic", "--n", "4", "--size", "32", "--out", str(tmp_path / "g"),
                        "--param", "max_moves=lots")
    assert code == 2 and "--param max_moves='lots'" in stderr and "an integer" in stderr


def test_L12_generate_into_a_file_is_refused(tmp_path):
    target = tmp_path / "existing_file.txt"
    target.write_text("keep me")
    code, stderr = _cli("generate", "rw-classic", "--n", "4", "--size", "32", "--out", str(target))
    assert code == 2 and "is not a directory" in stderr and target.read_text() == "keep me"
