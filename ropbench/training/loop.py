"""The one training protocol every architecture gets (see :class:`TrainingConfig`).

Adam, reduce-on-plateau on the monitored validation quantity (loss or accuracy), early
stopping with best-checkpoint restore, class-balanced epochs, dihedral augmentation,
optional regional guidance, any ``regularization_loss()`` the model defines, float32 or
bfloat16-autocast steps and an optional Glorot re-initialisation. Seeded and
deterministic: the same seed, precision and thread count on the same machine give
bit-identical weights.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import nn

from ropbench.imaging import to_model_input
from ropbench.modelinfo import model_info
from ropbench.specs import RetinaBatch
from ropbench.training.augment import random_dihedral
from ropbench.training.build import initialise
from ropbench.training.config import TrainingConfig
from ropbench.training.determinism import deterministic_kernels, seeded_global_rng, stream
from ropbench.training.guidance import guidance_loss, guidance_probe
from ropbench.training.precision import Precision, autocast, resolve_precision
from ropbench.training.predict import resolve_device
from ropbench.training.sampling import balanced_epoch_order, batch_slices

__all__ = ["TrainingResult", "train_model", "evaluate_loss"]

ProgressCallback = Callable[[dict[str, Any]], None]


@dataclass
class TrainingResult:
    """A trained model (the best epoch's weights restored, eval mode) and its record;
    ``precision`` is the one the steps ran in (``auto`` resolved)."""

    model: nn.Module
    history: list[dict[str, Any]] = field(default_factory=list)
    best_epoch: int = 0
    seconds: float = 0.0
    precision: Precision = "float32"


def _prepare(model: nn.Module, config: TrainingConfig, device: torch.device) -> torch.memory_format:
    model.to(device)
    # channels-last only pays off for convolutions; ViTs see a single patchify conv.
    if config.channels_last and model_info(model).family == "cnn":
        model.to(memory_format=torch.channels_last)
        return torch.channels_last
    return torch.contiguous_format


def evaluate_loss(
    model: nn.Module, batch: RetinaBatch, batch_size: int, device: torch.device,
    memory_format: torch.memory_format = torch.contiguous_format,
) -> tuple[float, float]:
    """Mean cross-entropy and accuracy over ``batch`` in eval mode under inference_mode."""
    model.eval()
    total_loss, correct = 0.0, 0
    with torch.inference_mode():
        for rows in batch_slices(len(batch), batch_size):
            inputs = to_model_input(batch.images[rows]).to(device).contiguous(memory_format=memory_format)
            labels = batch.labels[rows].to(device)
            logits = model(inputs).float()
            total_loss += float(F.cross_entropy(logits, labels, reduction="sum"))
            correct += int((logits.argmax(dim=1) == labels).sum())
    return total_loss / len(batch), correct / len(batch)


def _training_step(
    model: nn.Module, images: torch.Tensor, labels: torch.Tensor, masks: torch.Tensor | None,
    config: TrainingConfig, precision: Precision,
) -> tuple[torch.Tensor, float]:
    """Loss of one batch: cross-entropy + regularisation + lambda * guidance share."""
    guided = config.guidance_weight > 0
    with guidance_probe(model) if guided else contextlib.nullcontext() as read_relevance:
        with autocast(precision, images.device):
            logits = model(images)
        logits = logits.float()
        loss = F.cross_entropy(logits, labels)
        regularization = getattr(model, "regularization_loss", None)
        if callable(regularization):
            loss = loss + regularization()
        share = 0.0
        if guided:
            assert masks is not None and read_relevance is not None
            outside = guidance_loss(read_relevance(labels), masks)
            loss = loss + config.guidance_weight * outside
            share = float(outside.detach())
    return loss, share


class _Monitor:
    """The validation quantity that steers the schedule, early stopping and the kept epoch."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.maximise = name == "val_accuracy"
        self.best = -float("inf") if self.maximise else float("inf")

    def scheduler(self, optimizer: torch.optim.Optimizer,
                  config: TrainingConfig) -> torch.optim.lr_scheduler.ReduceLROnPlateau:
        if self.maximise:
            # Keras' ReduceLROnPlateau on an accuracy: better means more than min_delta=1e-4 above.
            return torch.optim.lr_scheduler.ReduceLROnPlateau(
                optimizer, mode="max", factor=config.plateau_factor, patience=config.plateau_patience,
                threshold=1e-4, threshold_mode="abs", min_lr=config.min_learning_rate)
        return torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, mode="min", factor=config.plateau_factor, patience=config.plateau_patience,
            min_lr=config.min_learning_rate)

    def improved(self, value: float) -> bool:
        """Whether ``value`` beats every earlier epoch (strictly: ties keep the earlier one)."""
        better = value > self.best if self.maximise else value < self.best
        if better:
            self.best = value
        return better


def train_model(
    model: nn.Module,
    train: RetinaBatch,
    val: RetinaBatch,
    config: TrainingConfig,
    seed: int,
    *,
    progress: ProgressCallback | None = None,
) -> TrainingResult:
    """Fit ``model`` on ``train``, keep the epoch that scored best on ``val`` (lowest loss,
    or highest accuracy with ``config.monitor = "val_accuracy"``).

    :param model: built by an architecture spec (carries ModelInfo).
    :param train: training retinas (uint8 images; masks used by guidance).
    :param val: validation retinas (must not be empty).
    :param config: the suite's training protocol.
    :param seed: draws shuffling, augmentation and dropout (each its own stream).
    :param progress: called after every epoch with that epoch's history entry.
    :return: :class:`TrainingResult` (with the resolved ``precision``); ``history``
        entries hold ``epoch`` (1-based), ``train_loss``, ``val_loss``, ``val_accuracy``, ``lr``, ``seconds`` and, when
        guided, ``guidance_share`` (mean outside-mask relevance share).
    """
    if len(train) == 0 or len(val) == 0:
        raise ValueError(f"train and val splits must be non-empty (got {len(train)}, {len(val)})")
    device = resolve_device(config)
    started = time.perf_counter()
    with deterministic_kernels(), seeded_global_rng(seed, "dropout"):
        if config.init != "torch":
            with seeded_global_rng(seed, "init"):
                initialise(model, config.init)
        memory_format = _prepare(model, config, device)
        precision = resolve_precision(config.precision, model, device)
        optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay,
                                     eps=config.adam_epsilon)
        monitor = _Monitor(config.monitor)
        scheduler = monitor.scheduler(optimizer, config)
        shuffle, augment = stream(seed, "shuffle"), stream(seed, "augment")
        history: list[dict[str, Any]] = []
        best_epoch, best_state = 0, None
        for epoch in range(1, config.epochs + 1):
            epoch_started = time.perf_counter()
            model.train()
            order = balanced_epoch_order(train.labels, shuffle)
            loss_sum, share_sum, seen = 0.0, 0.0, 0
            for rows in batch_slices(len(order), config.batch_size):
                index = order[rows]
                images = train.images[index]
                masks = train.masks[index] if config.guidance_weight > 0 else None
                if config.augment:
                    images, masks = random_dihedral(images, masks, augment)
                inputs = to_model_input(images).to(device).contiguous(memory_format=memory_format)
                labels = train.labels[index].to(device)
                loss, share = _training_step(
                    model, inputs, labels, masks.to(device) if masks is not None else None, config, precision
                )
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                loss_sum += float(loss.detach()) * len(index)
                share_sum += share * len(index)
                seen += len(index)
            val_loss, val_accuracy = evaluate_loss(model, val, config.batch_size, device, memory_format)
            lr = optimizer.param_groups[0]["lr"]
            monitored = val_accuracy if monitor.maximise else val_loss
            scheduler.step(monitored)
            entry: dict[str, Any] = {
                "epoch": epoch,
                "train_loss": loss_sum / seen,
                "val_loss": val_loss,
                "val_accuracy": val_accuracy,
                "lr": lr,
                "seconds": time.perf_counter() - epoch_started,
            }
            if config.guidance_weight > 0:
                entry["guidance_share"] = share_sum / seen
            history.append(entry)
            if progress is not None:
                progress(dict(entry))
            if monitor.improved(monitored):
                best_epoch = epoch
                best_state = {name: value.detach().clone() for name, value in model.state_dict().items()}
            elif config.early_stopping_patience and epoch - best_epoch >= config.early_stopping_patience:
                break
        if best_state is not None:
            model.load_state_dict(best_state)
    model.eval()
    return TrainingResult(model=model, history=history, best_epoch=best_epoch, seconds=time.perf_counter() - started,
                          precision=precision)
