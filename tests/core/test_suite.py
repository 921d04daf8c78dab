"""Suite validation: every error names the file, the key and what was expected."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from ropbench.specs import ArchitectureSpec, MetricSpec, ReporterSpec
from ropbench.suite import SuiteError, load_suite, narrow, shipped_suites
from tests.core.conftest import explainer_spec, generator_spec, make_plugin

VALID = """
name = "tiny"
seeds = [0, 1]
image_size = 32
generators = ["gen-a"]
architectures = ["arch-*", { name = "arch-cnn", label = "arch-cnn-guided", training = { guidance_weight = 1.0 } }]
explainers = [{ name = "expl", params = { strength = 2 } }]
metrics = ["acc"]

[data]
train = 8
val = 4
test = 4

[training]
epochs = 1
learning_rate = 1
"""


@pytest.fixture
def registry(registry_of):
    def build_arch(name):
        return ArchitectureSpec(name=name, build=lambda *a, **k: None, params={"dropout": 0.5})

    plugin = make_plugin(
        "fake",
        ropbench_register_generators=lambda: [generator_spec("gen-a")],
        ropbench_register_architectures=lambda: [build_arch("arch-cnn"), build_arch("arch-vit")],
        ropbench_register_explainers=lambda: [
            explainer_spec("expl").__class__(name="expl", explain=None, supports=None, params={"strength": 1})
        ],
        ropbench_register_metrics=lambda: [MetricSpec(name="acc", kind="classification", higher_is_better=True,
                                                      compute=None)],
        ropbench_register_reporters=lambda: [ReporterSpec(name="markdown", write=None),
                                             ReporterSpec(name="csv", write=None)],
    )
    return registry_of(plugin)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "suite.toml"
    path.write_text(textwrap.dedent(text))
    return path


def test_a_valid_suite_resolves_globs_labels_params_and_training(tmp_path, registry):
    suite = load_suite(str(write(tmp_path, VALID)), registry)
    assert [e.label for e in suite.architectures] == ["arch-cnn", "arch-vit", "arch-cnn-guided"]
    assert suite.architectures[2].training == {"guidance_weight": 1.0}
    assert suite.explainers[0].params == {"strength": 2}
    assert suite.training.learning_rate == 1.0 and isinstance(suite.training.learning_rate, float)
    assert suite.seeds == (0, 1)


@pytest.mark.parametrize(
    ("change", "key", "expected"),
    [
        (("image_size = 32", "image_size = 'big'"), "image_size", "an integer"),
        (("seeds = [0, 1]", "seeds = []"), "seeds", "non-empty list"),
        (("generators = [\"gen-a\"]", "generators = [\"gen-b\"]"), "generators[0]", "did you mean 'gen-a'"),
        (("metrics = [\"acc\"]", "metrics = [\"ac*x\"]"), "metrics[0]", "available: acc"),
        (("strength = 2", "strenght = 2"), "explainers[0].params.strenght", "did you mean 'strength'"),
        (("epochs = 1", "epochs = 1.5"), "training.epochs", "a valid integer"),
        (("epochs = 1", "epochs = -1"), "training.epochs", "greater than or equal to 1"),  # S16
        (("epochs = 1", "epochs = 1\ndevice = 'tpu'"), "training.device", "'auto', 'cpu', 'cuda'"),  # S28
        (("learning_rate = 1", "learning_rate = nan"), "training.learning_rate", "finite number"),  # S30
        (("guidance_weight = 1.0", "guidance_weight = 1.0, epochs = '1'"),
         "architectures[1].training.epochs", "a valid integer"),  # S13: per-entry values checked too
        (("guidance_weight = 1.0", "guidance_weight = 1.0, batch_size = 0"),
         "architectures[1].training.batch_size", "greater than or equal to 1"),  # S15
        (("strength = 2", "strength = 'lots'"), "explainers[0].params.strength", "an integer like the default 1"),  # S31
        (('"arch-*", {', '"arch-*", { params = { dropout = "half" }, '),
         "architectures[1].params.dropout", "a number like the default 0.5"),  # S32
        (("epochs = 1", "epoch = 1"), "training.epoch", "did you mean 'epochs'"),
        (("test = 4", "test = 0"), "data.test", "an integer >= 1"),
        (("name = \"tiny\"", "name = \"tiny\"\ncolour = 1"), "colour", "one of the suite keys"),
        (("train = 8", "trian = 8"), "data", "exactly train, val and test"),
    ],
)
def test_errors_name_file_key_and_expectation(tmp_path, registry, change, key, expected):
    path = write(tmp_path, VALID.replace(*change))
    with pytest.raises(SuiteError) as caught:
        load_suite(str(path), registry)
    message = str(caught.value)
    assert message.startswith(str(path))
    assert f": {key}: " in message
    assert expected in message


def test_toml_syntax_errors_name_the_file(tmp_path, registry):
    path = write(tmp_path, VALID + "\n[data\n")
    with pytest.raises(SuiteError, match=r"suite\.toml: \(syntax\): expected valid TOML"):
        load_suite(str(path), registry)


def test_repeated_labels_are_rejected(tmp_path, registry):
    path = write(tmp_path, VALID.replace('"arch-*", ', '"arch-*", "arch-cnn", '))
    with pytest.raises(SuiteError, match="repeated: 'arch-cnn'"):
        load_suite(str(path), registry)


def test_narrowing_by_label_globs_and_seeds(tmp_path, registry):
    suite = load_suite(str(write(tmp_path, VALID)), registry)
    narrowed = narrow(suite, architectures=["*guided"], seeds=[1])
    assert [e.label for e in narrowed.architectures] == ["arch-cnn-guided"]
    assert narrowed.seeds == (1,)
    with pytest.raises(Exception, match="matches none"):
        narrow(suite, explainers=["nothing*"])


def test_shipped_suites_include_smoke_and_quick():
    assert {"smoke", "quick"} <= set(shipped_suites())


def test_a_specs_own_param_validator_runs_when_the_suite_loads(tmp_path, registry_of):
    def explainer_validator(params):
        if not 0 < params["strength"] <= 3:
            raise ValueError(f"strength in (0, 3], got {params['strength']}")

    plugin = make_plugin(
        "fake",
        ropbench_register_generators=lambda: [generator_spec("gen-a")],
        ropbench_register_architectures=lambda: [
            ArchitectureSpec(name=n, build=lambda *a, **k: None, params={"dropout": 0.5})
            for n in ("arch-cnn", "arch-vit")],
        ropbench_register_explainers=lambda: [explainer_spec("expl").__class__(
            name="expl", explain=None, supports=None, params={"strength": 1}, validate_params=explainer_validator)],
        ropbench_register_metrics=lambda: [MetricSpec(name="acc", kind="classification", higher_is_better=True,
                                                      compute=None)],
        ropbench_register_reporters=lambda: [ReporterSpec(name="markdown", write=None),
                                             ReporterSpec(name="csv", write=None)],
    )
    registry = registry_of(plugin)
    assert load_suite(str(write(tmp_path, VALID)), registry).explainers[0].params["strength"] == 2
    bad = VALID.replace("strength = 2", "strength = 7")
    with pytest.raises(SuiteError, match=r"suite.toml: explainers\[0\].params: expected parameters 'expl' accepts "
                                          r"\(strength in \(0, 3\], got 7\)"):
        load_suite(str(write(tmp_path, bad)), registry)


def test_a_generators_pairing_choice_is_checked_at_load_time(tmp_path):
    from ropbench.registry import get_registry

    smoke = (Path(__file__).resolve().parents[2] / "ropbench" / "suites" / "smoke.toml").read_text()
    suite = tmp_path / "suite.toml"
    suite.write_text(smoke.replace('pairing = "twins"', 'pairing = "twinz"'))
    with pytest.raises(SuiteError, match=r"generators\[0\].params: .*pairing must be one of .*got 'twinz'"):
        load_suite(str(suite), get_registry())
