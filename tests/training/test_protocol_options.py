"""The study's protocol options: precision, monitor, minimum rate, Adam epsilon, Glorot init, validate_on."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
import torch
from torch import nn

from ropbench.modelinfo import ModelInfo, attach_model_info
from ropbench.registry import get_registry
from ropbench.training import TrainingConfig, build_seeded, evaluate_loss, train_model
from ropbench.training import precision as precision_module
from ropbench.training.build import initialise
from ropbench.training.config import TrainingConfigError, validate_training
from ropbench.training.precision import native_bfloat16, resolve_precision

_CPU = torch.device("cpu")


def _gap_cnn(seed: int = 0) -> nn.Module:
    spec = get_registry().architectures.get("gap-cnn")
    return build_seeded(spec, 2, 32, spec.params, seed)


class _ConstantLogits(nn.Module):
    """Logits = a learnt bias, whatever the image: on a balanced split every epoch's
    accuracy is exactly 0.5, so an accuracy monitor never sees an improvement."""

    def __init__(self) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.tensor([0.3, -0.3]))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.bias.expand(images.shape[0], 2) + 0.0 * images.mean()


def _constant_model() -> nn.Module:
    return attach_model_info(_ConstantLogits(), ModelInfo(family="cnn", target_layer="bias"))


@pytest.mark.parametrize("values, key", [
    ({"precision": "float16"}, "precision"), ({"precision": True}, "precision"),
    ({"monitor": "accuracy"}, "monitor"), ({"min_learning_rate": -1e-6}, "min_learning_rate"),
    ({"adam_epsilon": 0.0}, "adam_epsilon"), ({"init": "he"}, "init"), ({"validate_on": "train"}, "validate_on"),
])
def test_protocol_options_are_validated(values, key) -> None:
    with pytest.raises(TrainingConfigError) as error:
        validate_training(values)
    assert error.value.key == key


def test_protocol_options_default_to_the_earlier_behaviour_and_are_keyed() -> None:
    config = validate_training({})
    assert (config.precision, config.monitor, config.min_learning_rate, config.adam_epsilon, config.init,
            config.validate_on) == ("float32", "val_loss", 0.0, 1e-8, "torch", "val")
    study = validate_training({"precision": "auto", "monitor": "val_accuracy", "min_learning_rate": 1e-6,
                               "adam_epsilon": 1e-7, "init": "glorot", "validate_on": "test"})
    for name in ("precision", "monitor", "min_learning_rate", "adam_epsilon", "init", "validate_on"):
        assert config.identity()[name] != study.identity()[name]
    assert "device" not in study.identity()


def test_accuracy_monitor_reduces_to_the_minimum_rate_and_keeps_the_first_best_epoch(line_splits) -> None:
    train, val, _ = line_splits
    assert int(val.labels.sum()) * 2 == len(val)  # balanced: constant logits score exactly 0.5
    config = TrainingConfig(epochs=5, batch_size=32, learning_rate=0.04, plateau_patience=0, plateau_factor=0.1,
                            min_learning_rate=0.004, monitor="val_accuracy", early_stopping_patience=0,
                            augment=False, device="cpu")
    result = train_model(_constant_model(), train, val, config, seed=0)
    assert [entry["val_accuracy"] for entry in result.history] == [0.5] * 5
    # Epoch 1 sets the best; every later epoch ties it, which is no improvement, so with
    # patience 0 the rate drops after epoch 2 (0.04 x 0.1) and then stays at the floor.
    assert [entry["lr"] for entry in result.history] == pytest.approx([0.04, 0.04, 0.004, 0.004, 0.004])
    assert result.best_epoch == 1


def test_accuracy_monitor_keeps_the_most_accurate_epoch(line_splits) -> None:
    train, val, _ = line_splits
    # A learning rate this large makes validation accuracy move from epoch to epoch.
    config = TrainingConfig(epochs=8, batch_size=16, learning_rate=0.02, monitor="val_accuracy",
                            plateau_patience=100, early_stopping_patience=0, device="cpu")
    result = train_model(_gap_cnn(), train, val, config, seed=0)
    accuracies = [entry["val_accuracy"] for entry in result.history]
    assert result.best_epoch == 1 + accuracies.index(max(accuracies))
    _, restored_accuracy = evaluate_loss(result.model, val, 16, _CPU)
    assert restored_accuracy == max(accuracies)


def test_accuracy_monitor_stops_early_on_accuracy(line_splits) -> None:
    train, val, _ = line_splits
    config = TrainingConfig(epochs=10, batch_size=32, monitor="val_accuracy", early_stopping_patience=2,
                            plateau_patience=100, device="cpu")
    result = train_model(_constant_model(), train, val, config, seed=0)
    assert len(result.history) == 3  # best at epoch 1, two epochs without improvement


def test_adam_epsilon_reaches_the_optimiser(line_splits) -> None:
    """Adam's first step moves a weight by lr * g / (|g| + eps): about lr when eps << |g|,
    almost nothing when eps >> |g| (here the gradients are below 1)."""
    train, val, _ = line_splits
    moves = {}
    for epsilon in (1e-8, 1e3):
        model = _constant_model()
        config = TrainingConfig(epochs=1, batch_size=len(train), learning_rate=0.01, adam_epsilon=epsilon,
                                augment=False, device="cpu")
        train_model(model, train, val, config, seed=0)
        moves[epsilon] = float((model.bias.detach() - torch.tensor([0.3, -0.3])).abs().max())
    assert moves[1e-8] == pytest.approx(0.01, rel=1e-3)
    assert moves[1e3] < 0.01 * 1e-3


def test_glorot_initialisation_draws_within_keras_bounds_with_zero_biases() -> None:
    model = initialise(_gap_cnn(), "glorot")
    conv2 = model.features.conv2  # 3x3, 16 -> 32: fan_in 144, fan_out 288
    bound = math.sqrt(6 / (144 + 288))
    weights = conv2.weight.detach()
    assert float(weights.abs().max()) <= bound
    assert float(weights.abs().max()) > 0.95 * bound  # 4608 uniform draws reach the edge
    # Uniform(-b, b) has variance b^2 / 3.
    assert float(weights.var()) == pytest.approx(bound**2 / 3, rel=0.1)
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            assert not module.bias.detach().any()
    classifier = model.classifier  # 128 -> 2
    assert float(classifier.weight.detach().abs().max()) <= math.sqrt(6 / (128 + 2))
    assert initialise(_gap_cnn(), "torch").features.conv2.weight.abs().max() < bound  # torch's is 1/sqrt(144)


def test_glorot_training_init_is_seeded_and_differs_from_the_builders(line_splits) -> None:
    train, val, _ = line_splits
    config = TrainingConfig(epochs=1, batch_size=32, init="glorot", device="cpu")
    states = [train_model(_gap_cnn(), train, val, config, seed=s).model.state_dict() for s in (0, 0, 1)]
    plain = train_model(_gap_cnn(), train, val, replace(config, init="torch"), seed=0).model.state_dict()
    key = "features.conv1.weight"
    assert torch.equal(states[0][key], states[1][key])
    assert not torch.equal(states[0][key], states[2][key]) and not torch.equal(states[0][key], plain[key])


@pytest.mark.parametrize("threads", [1, 2])
def test_bfloat16_training_is_bit_reproducible_per_thread_count(line_splits, threads) -> None:
    if not native_bfloat16(_CPU):
        pytest.skip("this CPU has no native bfloat16: autocast would be emulated")
    train, val, _ = line_splits
    config = TrainingConfig(epochs=2, batch_size=16, precision="bfloat16", channels_last=True, device="cpu")
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        runs = [train_model(_gap_cnn(), train, val, config, seed=0) for _ in range(2)]
        float32 = train_model(_gap_cnn(), train, val, replace(config, precision="float32"), seed=0)
    finally:
        torch.set_num_threads(before)
    assert runs[0].precision == "bfloat16" and float32.precision == "float32"
    states = [run.model.state_dict() for run in runs]
    assert all(torch.equal(states[0][k], states[1][k]) for k in states[0])
    assert all(value.dtype == torch.float32 for value in states[0].values() if value.is_floating_point())
    # bfloat16 steps round differently, so the weights are not float32's.
    assert any(not torch.equal(states[0][k], float32.model.state_dict()[k]) for k in states[0])


@pytest.mark.parametrize("architecture", ["gap-cnn", "vit-convstem-tiny"])
def test_guided_training_runs_under_bfloat16(line_splits, architecture) -> None:
    """The guidance map is hooked inside the autocast forward (bfloat16) and read in float32."""
    train, val, _ = line_splits
    spec = get_registry().architectures.get(architecture)
    model = build_seeded(spec, 2, 32, {**spec.params, **({"patch_size": 8} if "vit" in architecture else {})}, 0)
    config = TrainingConfig(epochs=1, batch_size=16, precision="bfloat16", guidance_weight=0.1, device="cpu")
    result = train_model(model, train.select(slice(0, 32)), val, config, seed=0)
    share = result.history[0]["guidance_share"]
    assert result.precision == "bfloat16" and 0.0 <= share <= 1.0


def test_auto_precision_follows_the_family_and_the_hardware(monkeypatch) -> None:
    cnn = _gap_cnn()
    assert resolve_precision("float32", cnn, _CPU) == "float32"
    assert resolve_precision("bfloat16", cnn, _CPU) == "bfloat16"
    monkeypatch.setattr(precision_module, "native_bfloat16", lambda device: False)
    assert resolve_precision("auto", cnn, _CPU) == "float32"  # emulated bfloat16 is slower
    monkeypatch.setattr(precision_module, "native_bfloat16", lambda device: True)
    for family in ("cnn", "vit"):
        model = attach_model_info(nn.Linear(1, 1), ModelInfo(family=family, target_layer=""))
        expected = "bfloat16" if family in precision_module.AUTO_BFLOAT16_FAMILIES else "float32"
        assert resolve_precision("auto", model, _CPU) == expected
