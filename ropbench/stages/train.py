"""The train stage: fit one architecture on one cell's data, then score classification."""

from __future__ import annotations

from typing import Any, Callable, Mapping

from ropbench.cache import Cache
from ropbench.registry import Registry
from ropbench.seeding import derive_seed
from ropbench.specs import RetinaBatch, ScoringInputs
from ropbench.stages.data import load_splits
from ropbench.stages.models import build_model
from ropbench.training import resolve_device
from ropbench.stages.scoring import score
from ropbench.training import TrainingConfig

__all__ = ["run_train_stage", "load_trained_model"]


def _train(payload: Mapping[str, Any], splits: Mapping[str, RetinaBatch], registry: Registry,
           report: Callable[[str], None]) -> dict[str, Any]:
    from ropbench.training import predict_probabilities, train_model

    model_payload = payload["model"]
    seed = int(model_payload["seed"])
    config = TrainingConfig.from_mapping({**model_payload["training"], "device": payload["device"]})
    device = resolve_device(config.device)
    model = build_model(registry, model_payload)

    def on_epoch(epoch: Mapping[str, Any]) -> None:
        report(
            f"epoch {epoch['epoch']}/{config.epochs} train_loss {epoch['train_loss']:.4f} "
            f"val_loss {epoch['val_loss']:.4f} val_acc {epoch['val_accuracy']:.3f}"
        )

    result = train_model(
        model, splits["train"], splits["val"], config, derive_seed(seed, "train"), progress=on_epoch,
    )
    probabilities = predict_probabilities(
        result.model, splits["test"].images, batch_size=config.batch_size, device=device
    )
    return {
        "state_dict": {k: v.detach().cpu() for k, v in result.model.state_dict().items()},
        "history": list(result.history),
        "best_epoch": int(result.best_epoch),
        "train_seconds": float(result.seconds),
        "test_probabilities": probabilities.detach().cpu(),
    }


def load_trained_model(cache: Cache, registry: Registry, model_payload: Mapping[str, Any],
                       model_key: str):
    """The trained model of a finished train stage, in eval mode, on the CPU."""
    record = cache.load_tensors("models", model_key)
    model = build_model(registry, model_payload)
    model.load_state_dict(record["state_dict"])
    return model.eval(), record


def run_train_stage(payload: Mapping[str, Any], cache: Cache, registry: Registry,
                    report: Callable[[str], None]) -> tuple[list[dict[str, Any]], dict[str, Any], int, int]:
    """Train (or reuse the cached model) and score; returns rows, training info, cache hits, misses."""
    model_key = payload["model_key"]
    model_payload = payload["model"]
    # The data file holds every split: read it once for training and scoring.
    splits = load_splits(cache, model_payload["data"])
    if cache.has("models", model_key, ".pt"):
        record = cache.load_tensors("models", model_key)
        hits, misses = 1, 0
    else:
        record = _train(payload, splits, registry, report)
        cache.save_tensors("models", model_key, record)
        hits, misses = 0, 1
    test = splits["test"]
    seed = int(model_payload["seed"])
    rows = []
    for metric in payload["metrics"]:
        spec = registry.metrics.get(metric["name"])
        inputs = ScoringInputs(
            labels=test.labels, probabilities=record["test_probabilities"],
            seed=derive_seed(seed, "score", spec.name),
        )
        rows.append(score(spec, metric["params"], inputs,
                          resamples=payload["scoring"]["bootstrap_resamples"], n_excluded=0))
    info = {
        "model_key": model_key,
        "data_key": model_payload["data"],
        "epochs_trained": len(record["history"]),
        "best_epoch": record["best_epoch"],
        "train_seconds": record["train_seconds"],
        "history": record["history"],
    }
    return rows, info, hits, misses
