"""The train stage under the study's options: the test split as validation, the precision recorded."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from ropbench.cache import Cache
from ropbench.registry import get_registry
from ropbench.stages.data import load_split, run_data_stage
from ropbench.stages.train import load_predictions, run_train_stage
from ropbench.tasks import CellLabels, DataTask, PluginRef, SplitCounts, TrainTask
from ropbench.training import TrainingConfig
from ropbench.training.precision import native_bfloat16

_SIZE = 32


@pytest.fixture(scope="module")
def data_task(tmp_path_factory) -> tuple[DataTask, Cache]:
    registry = get_registry()
    spec = registry.generators.get("rw-classic")
    task = DataTask(cell=CellLabels("rw-classic"), generator=PluginRef("rw-classic", spec.version, dict(spec.params)),
                    source="synthetic", fingerprint=None, image_size=_SIZE, counts=SplitCounts(24, 8, 16), seed=0)
    cache = Cache(tmp_path_factory.mktemp("cache"))
    run_data_stage(task, cache, registry, lambda _: None)
    return task, cache


def _train_task(data: DataTask, **training) -> TrainTask:
    spec = get_registry().architectures.get("gap-cnn")
    config = replace(TrainingConfig(epochs=3, batch_size=8, early_stopping_patience=0, device="cpu"), **training)
    return TrainTask(cell=CellLabels("rw-classic", "gap-cnn"), data=data,
                     architecture=PluginRef("gap-cnn", spec.version, dict(spec.params)), training=config,
                     image_size=_SIZE, seed=0)


def test_validating_on_test_selects_on_the_test_split(data_task) -> None:
    """With the test split as validation, the kept epoch's validation accuracy *is* the
    reported test accuracy (same images, same weights, float32 eval mode)."""
    data, cache = data_task
    registry = get_registry()
    task = _train_task(data, validate_on="test", monitor="val_accuracy")
    info, computed = run_train_stage(task, cache, registry, lambda _: None)
    assert computed
    test = load_split(cache, data, "test", registry)
    probabilities = load_predictions(cache, task, registry)
    test_accuracy = float((probabilities.argmax(dim=1) == test.labels).float().mean())
    kept = info["history"][info["best_epoch"] - 1]
    assert kept["val_accuracy"] == pytest.approx(test_accuracy, abs=1e-9)
    assert kept["val_accuracy"] == max(entry["val_accuracy"] for entry in info["history"])
    assert task.key != _train_task(data, monitor="val_accuracy").key


def test_the_resolved_precision_is_in_the_stage_info_also_when_cached(data_task) -> None:
    data, cache = data_task
    registry = get_registry()
    task = _train_task(data, precision="auto", epochs=1)
    expected = "bfloat16" if native_bfloat16(torch.device("cpu")) else "float32"
    first, computed = run_train_stage(task, cache, registry, lambda _: None)
    again, recomputed = run_train_stage(task, cache, registry, lambda _: None)
    assert computed and not recomputed
    assert first["precision"] == again["precision"] == expected
    plain, _ = run_train_stage(_train_task(data, epochs=1), cache, registry, lambda _: None)
    assert plain["precision"] == "float32"


def test_glorot_init_refuses_to_overwrite_loaded_weights(data_task, tmp_path) -> None:
    data, cache = data_task
    spec = get_registry().architectures.get("gap-cnn")
    weights = tmp_path / "gap-cnn.pt"
    torch.save(spec.build(2, _SIZE).state_dict(), weights)
    task = replace(_train_task(data, init="glorot"),
                   architecture=PluginRef("gap-cnn", spec.version, {**spec.params, "weights": str(weights)}))
    with pytest.raises(ValueError, match="would overwrite the weights"):
        run_train_stage(task, cache, get_registry(), lambda _: None)
