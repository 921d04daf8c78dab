"""The train stage: fit one architecture on one data task, then predict its test split.

The fitted weights (``models/<key>.pt``) and the test-set probabilities
(``predictions/<key>.pt``) are separate entries: scoring and the report read the
predictions without loading a model. Classification is scored by the score stage.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import torch
from torch import nn

from ropbench.cache import Cache, CorruptCacheEntryError
from ropbench.registry import Registry
from ropbench.seeding import derive_seed
from ropbench.specs import RetinaBatch
from ropbench.stages.data import load_split
from ropbench.tasks import TrainTask

__all__ = ["run_train_stage", "build_model", "load_trained_model", "load_predictions", "outputs_present", "outputs"]

MODELS = "models"
PREDICTIONS = "predictions"


def build_model(registry: Registry, task: TrainTask, purpose: str = "train") -> nn.Module:
    """A fresh model exactly as ``task`` builds it: initial weights from the task's seed
    (and ``purpose``: the sanity checks' fresh copy draws other weights), not from
    whatever this process drew before, so a cell trains to the same model anywhere."""
    from ropbench.training.build import build_seeded

    spec = registry.architectures.get(task.architecture.name)
    return build_seeded(spec, task.num_classes, task.image_size, task.architecture.call_params(),
                        derive_seed(task.seed, purpose))


def run_train_stage(task: TrainTask, cache: Cache, registry: Registry, log: Callable[[str], None],
                    refresh: bool = False) -> tuple[dict[str, Any], bool]:
    """The training record's summary, and whether the model had to be fitted (False when
    readable weights and predictions were already cached and ``refresh`` is off)."""
    if not refresh and outputs_present(task, cache):
        try:
            record = cache.load_tensors(MODELS, task.key)
            cache.load_tensors(PREDICTIONS, task.key)
            return _summary(record), False
        except CorruptCacheEntryError as error:
            log(f"model of {task.label}: {error.reason}; training it again")
    return _fit_and_save(task, cache, registry, log), True


def _fit_and_save(task: TrainTask, cache: Cache, registry: Registry, log: Callable[[str], None]) -> dict[str, Any]:
    from ropbench.training.predict import predict_probabilities, resolve_device

    spec = registry.architectures.get(task.architecture.name)
    config = task.training
    if config.init != "torch" and task.architecture.params.get("weights"):
        raise ValueError(f"{task.label}: init = {config.init!r} would overwrite the weights loaded from "
                         f"{task.architecture.params['weights']!r}; give this entry training = {{ init = \"torch\" }}")
    train = load_split(cache, task.data, "train", registry, log)
    val = load_split(cache, task.data, "val", registry, log)
    if config.validate_on == "test":
        # The study's protocol: its test split doubled as validation, and everything else
        # (here train + val) was trained on.
        train, val = RetinaBatch.concat([train, val]), load_split(cache, task.data, "test", registry, log)
    device = resolve_device(config.device)
    model = build_model(registry, task)
    if spec.fit is not None:
        # Models fitted otherwise (the shortcut probe): no gradient loop, no epochs.
        notes = dict(spec.fit(model, train, val, derive_seed(task.seed, "train")))
        record: dict[str, Any] = {"history": [], "best_epoch": 0, "train_seconds": float(notes.pop("seconds", 0.0)),
                                  "notes": notes, "precision": "float32"}
    else:
        record = _train_by_gradient(model, train, val, task, log)
    model.eval()
    test = load_split(cache, task.data, "test", registry, log)
    probabilities = predict_probabilities(model, test.images, batch_size=config.batch_size, device=device)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    cache.save_tensors(MODELS, task.key, {"state_dict": state, **record})
    cache.save_tensors(PREDICTIONS, task.key, {"probabilities": probabilities.detach().cpu()})
    return _summary(record)


def _train_by_gradient(model: nn.Module, train, val, task: TrainTask, log: Callable[[str], None]) -> dict[str, Any]:
    from ropbench.training.loop import train_model

    config = task.training

    def on_epoch(epoch: Mapping[str, Any]) -> None:
        log(f"epoch {epoch['epoch']}/{config.epochs} train_loss {epoch['train_loss']:.4f} "
            f"val_loss {epoch['val_loss']:.4f} val_acc {epoch['val_accuracy']:.3f}")

    result = train_model(model, train, val, config, derive_seed(task.seed, "train"), progress=on_epoch)
    return {"history": list(result.history), "best_epoch": int(result.best_epoch),
            "train_seconds": float(result.seconds), "notes": {}, "precision": result.precision}


def _summary(record: Mapping[str, Any]) -> dict[str, Any]:
    return {"epochs_trained": len(record["history"]), "best_epoch": record["best_epoch"],
            "train_seconds": record["train_seconds"], "history": record["history"],
            "notes": record.get("notes", {}), "precision": record.get("precision", "float32")}


def outputs(task: TrainTask) -> list[tuple[str, str, str]]:
    return [(MODELS, task.key, ".pt"), (PREDICTIONS, task.key, ".pt")]


def outputs_present(task: TrainTask, cache: Cache) -> bool:
    return cache.has(MODELS, task.key, ".pt") and cache.has(PREDICTIONS, task.key, ".pt")


def _retrain(task: TrainTask, cache: Cache, registry: Registry, log: Callable[[str], None],
             error: CorruptCacheEntryError) -> None:
    log(f"model of {task.label}: {error.reason}; training it again")
    _fit_and_save(task, cache, registry, log)


def load_trained_model(cache: Cache, task: TrainTask, registry: Registry,
                       log: Callable[[str], None] = lambda _: None) -> nn.Module:
    """The trained model of ``task`` in eval mode on the CPU (retrained if its cache entry
    is missing or damaged)."""
    try:
        record = cache.load_tensors(MODELS, task.key)
    except CorruptCacheEntryError as error:
        _retrain(task, cache, registry, log, error)
        record = cache.load_tensors(MODELS, task.key)
    model = build_model(registry, task)
    model.load_state_dict(record["state_dict"])
    return model.eval()


def load_predictions(cache: Cache, task: TrainTask, registry: Registry,
                     log: Callable[[str], None] = lambda _: None) -> torch.Tensor:
    """The test-set class probabilities float32 [N, C] of ``task``."""
    try:
        return cache.load_tensors(PREDICTIONS, task.key)["probabilities"]
    except CorruptCacheEntryError as error:
        _retrain(task, cache, registry, log, error)
        return cache.load_tensors(PREDICTIONS, task.key)["probabilities"]


def training_record(cache: Cache, task: TrainTask) -> Mapping[str, Any]:
    """The stored training record (history, best epoch, seconds), for a cached task."""
    record = cache.load_tensors(MODELS, task.key)
    return _summary(record)
