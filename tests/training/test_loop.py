"""The training loop: learns, is bit-reproducible, restores the best epoch, adds model penalties."""

from __future__ import annotations

import torch
from torch import nn

from ropbench.modelinfo import ModelInfo, attach_model_info
from ropbench.registry import get_registry
from ropbench.training import (
    TrainingConfig,
    build_seeded,
    evaluate_loss,
    predict_probabilities,
    resolve_device,
    train_model,
)

_FAST = TrainingConfig(epochs=8, batch_size=16, early_stopping_patience=0, device="cpu")


def _gap_cnn(seed: int = 0) -> nn.Module:
    spec = get_registry().architectures.get("gap-cnn")
    return build_seeded(spec, 2, 32, spec.params, seed)


def test_gap_cnn_learns_the_stand_in_task(line_splits) -> None:
    train, val, test = line_splits
    epochs = []
    result = train_model(_gap_cnn(), train, val, _FAST, seed=0, progress=epochs.append)
    assert [entry["epoch"] for entry in result.history] == list(range(1, 9))
    assert epochs == result.history
    assert set(result.history[0]) == {"epoch", "train_loss", "val_loss", "val_accuracy", "lr", "seconds"}
    assert not result.model.training
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]
    probabilities = predict_probabilities(result.model, test.images, batch_size=8, device="cpu")
    assert probabilities.shape == (len(test), 2) and probabilities.dtype == torch.float32
    torch.testing.assert_close(probabilities.sum(dim=1), torch.ones(len(test)))
    accuracy = float((probabilities.argmax(dim=1) == test.labels).float().mean())
    assert accuracy >= 0.75, accuracy


def test_training_is_bit_reproducible_and_seed_dependent(line_splits) -> None:
    train, val, test = line_splits
    config = TrainingConfig(epochs=2, batch_size=16, device="cpu", channels_last=True)
    runs = [train_model(_gap_cnn(), train, val, config, seed=s).model for s in (0, 0, 1)]
    states = [m.state_dict() for m in runs]
    assert all(torch.equal(states[0][k], states[1][k]) for k in states[0])
    assert any(not torch.equal(states[0][k], states[2][k]) for k in states[0])
    probabilities = [predict_probabilities(m, test.images, batch_size=16, device="cpu") for m in runs[:2]]
    assert torch.equal(probabilities[0], probabilities[1])
    # The caller's RNG is untouched by training (dropout / init streams are forked).
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    train_model(_gap_cnn(), train, val, config, seed=0)
    assert torch.equal(torch.rand(3), expected)


def test_best_epoch_weights_are_restored_and_early_stopping_stops(line_splits) -> None:
    train, val, _ = line_splits
    # A learning rate this large makes validation loss bounce, so a later epoch is worse.
    config = TrainingConfig(epochs=12, batch_size=16, learning_rate=0.05, early_stopping_patience=2,
                            plateau_patience=100, device="cpu")
    result = train_model(_gap_cnn(), train, val, config, seed=0)
    losses = [entry["val_loss"] for entry in result.history]
    assert result.best_epoch == 1 + losses.index(min(losses))
    assert len(result.history) <= result.best_epoch + 2
    restored_loss, _ = evaluate_loss(result.model, val, 16, torch.device("cpu"))
    assert abs(restored_loss - min(losses)) < 1e-6


def test_reduce_on_plateau_lowers_the_learning_rate(line_splits) -> None:
    train, val, _ = line_splits
    config = TrainingConfig(epochs=6, batch_size=16, learning_rate=0.05, plateau_patience=0,
                            plateau_factor=0.5, early_stopping_patience=0, device="cpu")
    rates = [entry["lr"] for entry in train_model(_gap_cnn(), train, val, config, seed=0).history]
    assert rates[0] == 0.05 and min(rates) < 0.05


class _PenalisedLinear(nn.Module):
    """A tiny model with an L2 ``regularization_loss`` of adjustable strength."""

    def __init__(self, strength: float) -> None:
        super().__init__()
        self.linear = nn.Linear(3, 2)
        self.strength = strength
        self.calls = 0

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.linear(images.mean(dim=(2, 3)))

    def regularization_loss(self) -> torch.Tensor:
        self.calls += 1
        return self.strength * self.linear.weight.pow(2).sum()


def test_regularization_loss_is_added(line_splits) -> None:
    train, val, _ = line_splits
    config = TrainingConfig(epochs=3, batch_size=32, learning_rate=0.02, device="cpu")
    norms = {}
    for strength in (0.0, 10.0):
        torch.manual_seed(0)  # same initial weights for both
        model = attach_model_info(_PenalisedLinear(strength), ModelInfo(family="cnn", target_layer="linear"))
        train_model(model, train, val, config, seed=0)
        assert model.calls == 3 * 3  # 96 images / 32 per batch, 3 epochs
        norms[strength] = float(model.linear.weight.detach().norm())
    assert norms[10.0] < 0.7 * norms[0.0], norms


def test_guided_training_records_the_outside_share_and_lowers_it(line_splits) -> None:
    train, val, _ = line_splits
    config = TrainingConfig(epochs=6, batch_size=16, guidance_weight=1.0, early_stopping_patience=0, device="cpu")
    history = train_model(_gap_cnn(), train, val, config, seed=0).history
    shares = [entry["guidance_share"] for entry in history]
    assert all(0.0 <= s <= 1.0 for s in shares)
    assert shares[-1] < shares[0]


def test_resolve_device() -> None:
    assert resolve_device(TrainingConfig(device="cpu")) == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected


def test_guided_vit_trains_through_class_token_attention(line_splits) -> None:
    train, val, _ = (split.select(slice(0, 16)) for split in line_splits)
    spec = get_registry().architectures.get("vit_tiny_patch16")
    model = build_seeded(spec, 2, 32, spec.params, 0)
    before = model.blocks[-1].attn.qkv.weight.detach().clone()
    config = TrainingConfig(epochs=1, batch_size=8, guidance_weight=0.1, device="cpu")
    history = train_model(model, train, val, config, seed=0).history
    assert 0.0 < history[0]["guidance_share"] < 1.0
    assert not torch.equal(before, model.blocks[-1].attn.qkv.weight)
    assert all(m.fused_attn for m in model.modules() if hasattr(m, "fused_attn"))
