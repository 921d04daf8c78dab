"""Why seed-cnn falls short of the study's 95 %: the paper protocol, one change at a time.

Every run trains seed-cnn through ropbench's own train stage (``run_train_stage``: the
code the suites run) on one dataset and reports test accuracy and AUROC. A run is a
*dataset* and an *experiment*: a named set of training overrides applied to the first
attempt's protocol (``BASELINE``: the paper suite before this study, batch 32, 40 epochs,
Adam 1e-3, plateau on the validation loss, PyTorch initialisation, a held-out val split).
``study`` is the study's notebook (batch 4, 100 epochs, plateau on validation accuracy
x0.2 / 10 epochs / min 1e-6, Glorot init, Adam epsilon 1e-7, test split as validation);
the ``study-without-*`` experiments take one of those changes back out.

Datasets (244 px, 2000 images: 1400 train / 200 val / 400 test; under ``validate_on =
"test"`` train and val are trained on, as the study's 80 %):

- ``original``: the original generator's images (``../shared/data/original-generator-2000``)
  through the ``seed-format`` loader, NEAREST resizing (the study's); ``original-bilinear``
  the same images resized bilinearly;
- ``rw-classic``: ropbench's faithful generator at its defaults; ``rw-classic-<variant>``
  with one documented departure from the original undone (see ``DATASETS``).

Run (one at a time: the box has two cores)::

    .venv/bin/python benchmarks/paper_protocol_experiment.py --data original --experiments baseline batch-4
    .venv/bin/python benchmarks/paper_protocol_experiment.py --table      # the markdown table of all runs

Each run appends one JSON line to ``--results`` (default
``benchmarks/results/paper_protocol.jsonl``) with the load average before and after it.
Data and models are cached under ``--cache-dir``, so a rerun of a finished run is instant.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from ropbench.cache import Cache
from ropbench.registry import get_registry
from ropbench.stages.data import load_split, run_data_stage
from ropbench.stages.train import load_predictions, run_train_stage
from ropbench.tasks import CellLabels, DataTask, PluginRef, SplitCounts, TrainTask
from ropbench.training.config import TrainingConfig

ROOT = Path(__file__).resolve().parent.parent
ORIGINAL = str(ROOT.parent / "shared" / "data" / "original-generator-2000")

# The first attempt (the paper suite before this study): what every experiment changes.
BASELINE = TrainingConfig(epochs=40, batch_size=32, learning_rate=1e-3, plateau_patience=10, plateau_factor=0.1,
                          early_stopping_patience=0, augment=False, channels_last=True, device="cpu")
STUDY: dict[str, Any] = {
    "batch_size": 4, "epochs": 100, "monitor": "val_accuracy", "plateau_factor": 0.2, "plateau_patience": 10,
    "min_learning_rate": 1e-6, "init": "glorot", "adam_epsilon": 1e-7, "validate_on": "test",
}
# The study's protocol in groups that are switched as one (a schedule is one change).
STUDY_PARTS: dict[str, dict[str, Any]] = {
    "batch-4": {"batch_size": 4},
    "100-epochs": {"epochs": 100},
    "keras-plateau": {"monitor": "val_accuracy", "plateau_factor": 0.2, "plateau_patience": 10,
                      "min_learning_rate": 1e-6},
    "keras-init": {"init": "glorot", "adam_epsilon": 1e-7},
    "test-as-val": {"validate_on": "test"},
}
EXPERIMENTS: dict[str, dict[str, Any]] = {
    "baseline": {},
    "baseline-bfloat16": {"precision": "bfloat16"},
    **STUDY_PARTS,
    "batch-4-40-epochs-keras-plateau": {**STUDY_PARTS["batch-4"], **STUDY_PARTS["keras-plateau"]},
    "study": dict(STUDY),
    "study-40-epochs": {**STUDY, "epochs": 40},
    # Not the study's: ropbench's dihedral augmentation (flips, quarter turns).
    "augment": {"augment": True},
    "study-40-epochs-augment": {**STUDY, "epochs": 40, "augment": True},
    # seed-cnn's own parameter: inputs in [0, 1] as Keras' rescale=1/255 gave the study.
    "unit-input": {"params": {"unit_input": True}},
    "study-40-epochs-unit-input": {**STUDY, "epochs": 40, "params": {"unit_input": True}},
    **{f"study-without-{name}": {**STUDY, **{k: getattr(BASELINE, k) for k in part}}
       for name, part in STUDY_PARTS.items()},
}

DATASETS: dict[str, tuple[str, dict[str, Any]]] = {
    "original": ("seed-format", {"path": ORIGINAL, "resize": "nearest"}),
    "original-bilinear": ("seed-format", {"path": ORIGINAL, "resize": "bilinear"}),
    "rw-classic": ("rw-classic", {}),
    # The original draws sine wavelengths from 1 px; rw-classic floors them at 20 px.
    "rw-classic-short-waves": ("rw-classic", {"sine_wavelength_min": 1 / 600}),
    # The original's thin vessels are painted 1 px either side of the centre line.
    "rw-classic-thin": ("rw-classic", {"min_half_width": 1 / 600}),
    # Twins: healthy and ROP images are one tree drawn twice (no vessel-count cue).
    "rw-classic-twins": ("rw-classic", {"pairing": "twins"}),
}


def data_task(dataset: str, image_size: int, counts: SplitCounts, seed: int) -> DataTask:
    """The data task a suite would plan for ``dataset`` (its generator's full parameters)."""
    name, params = DATASETS[dataset]
    spec = get_registry().generators.get(name)
    full = {**spec.params, **params}
    fingerprint = spec.fingerprint(**full) if spec.fingerprint else None
    return DataTask(cell=CellLabels(dataset, seed=seed), generator=PluginRef(name, spec.version, full),
                    source=spec.source, fingerprint=fingerprint, image_size=image_size, counts=counts, seed=seed)


def auroc(probabilities: torch.Tensor, labels: torch.Tensor) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(labels.numpy(), probabilities[:, 1].numpy()))


def train_and_score(data: DataTask, architecture: str, params: dict[str, Any], config: TrainingConfig, seed: int,
                    cache: Cache, log) -> dict[str, Any]:
    """Train one model through the train stage on ``data`` (generated first if missing) and
    score its test split; the record's timing fields carry the load average around it."""
    registry = get_registry()
    if not all(cache.has("data", data.key, f".{split}.pt") for split in ("train", "val", "test")):
        run_data_stage(data, cache, registry, log)
    spec = registry.architectures.get(architecture)
    task = TrainTask(cell=CellLabels(data.cell.generator, architecture, seed=seed), data=data,
                     architecture=PluginRef(architecture, spec.version, {**spec.params, **params}), training=config,
                     image_size=data.image_size, seed=seed)
    load_before, started = os.getloadavg()[0], time.perf_counter()
    info, _ = run_train_stage(task, cache, registry, log)
    test = load_split(cache, data, "test", registry)
    probabilities = load_predictions(cache, task, registry)
    accuracy = float((probabilities.argmax(dim=1) == test.labels).float().mean())
    history = info["history"]
    return {
        "test_accuracy": round(accuracy, 4), "test_auroc": round(auroc(probabilities, test.labels), 4),
        "best_epoch": info["best_epoch"], "epochs": len(history),
        "best_val_accuracy": max(e["val_accuracy"] for e in history) if history else None,
        "final_train_loss": round(history[-1]["train_loss"], 4) if history else None,
        "train_seconds": round(info["train_seconds"], 1), "wall_seconds": round(time.perf_counter() - started, 1),
        "precision": info.get("precision"), "threads": torch.get_num_threads(),
        "load_before": load_before, "load_after": os.getloadavg()[0],
        "val_accuracy_by_epoch": [round(e["val_accuracy"], 3) for e in history],
        "lr_by_epoch": [e["lr"] for e in history],
    }


def run(dataset: str, experiment: str, seed: int, args: argparse.Namespace, log) -> dict[str, Any]:
    """Train one seed-cnn under ``experiment`` on ``dataset``; returns the JSON record of the run."""
    overrides = {**EXPERIMENTS[experiment], **dict(args.set)}
    training = {k: v for k, v in overrides.items() if k != "params"}
    data = data_task(dataset, args.image_size, SplitCounts(*args.counts), seed)
    record = train_and_score(data, "seed-cnn", overrides.get("params", {}), replace(BASELINE, **training), seed,
                             Cache(args.cache_dir), log)
    return {"dataset": dataset, "experiment": experiment, "seed": seed, "overrides": overrides, **record,
            "image_size": args.image_size, "counts": list(args.counts)}


def table(results: Path) -> str:
    """Markdown: one row per run (latest record of each dataset, experiment, seed)."""
    records: dict[tuple, dict[str, Any]] = {}
    for line in results.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            records[(record["dataset"], record["experiment"], record["seed"], json.dumps(record["overrides"]))] = record
    lines = ["| dataset | experiment | seed | test accuracy | test AUROC | best epoch / epochs | best val accuracy "
             "| train s | threads | load |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in records.values():
        lines.append(f"| {r['dataset']} | {r['experiment']} | {r['seed']} | {r['test_accuracy']:.3f} | "
                     f"{r['test_auroc']:.3f} | {r['best_epoch']} / {r['epochs']} | {r['best_val_accuracy']:.3f} | "
                     f"{r['train_seconds']:.0f} | {r['threads']} | {r['load_before']:.1f}-{r['load_after']:.1f} |")
    return "\n".join(lines)


def parse_override(text: str) -> tuple[str, Any]:
    key, _, value = text.partition("=")
    if key not in TrainingConfig.field_names():
        raise argparse.ArgumentTypeError(f"{key!r} is not a training field")
    return key, json.loads(value) if value[:1] in "0123456789-.tf[{" else value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="+", choices=sorted(DATASETS), default=["original"])
    parser.add_argument("--experiments", nargs="+", choices=sorted(EXPERIMENTS), default=["baseline"])
    parser.add_argument("--set", nargs="*", type=parse_override, default=[], help="extra training overrides key=value")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--image-size", type=int, default=244)
    parser.add_argument("--counts", nargs=3, type=int, default=[1400, 200, 400], metavar=("TRAIN", "VAL", "TEST"))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--cache-dir", default=str(ROOT / ".ropbench-experiments"))
    parser.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results" / "paper_protocol.jsonl")
    parser.add_argument("--table", action="store_true", help="print the table of --results and exit")
    args = parser.parse_args()
    if args.table:
        print(table(args.results))
        return
    torch.set_num_threads(args.threads)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    for dataset in args.data:
        for experiment in args.experiments:
            for seed in args.seeds:
                def log(message: str, label: str = f"{dataset}/{experiment}/seed={seed}") -> None:
                    print(f"{time.strftime('%H:%M:%S')} {label} {message}", flush=True)

                record = run(dataset, experiment, seed, args, log)
                print(json.dumps(record), flush=True)
                with args.results.open("a", encoding="utf-8") as handle:
                    handle.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    main()
