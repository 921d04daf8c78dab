"""How faithful is rw-classic to the original generator? Train on one, test on the other.

seed-cnn is trained (through ropbench's train stage, under one protocol of
``paper_protocol_experiment.py``) on the original generator's images and on rw-classic,
each at 244 px with 1400 / 200 / 400 images, and every model then classifies both test
splits. If rw-classic drew the same disease as the original, a model would lose nothing
by crossing over; the drop from the diagonal to the off-diagonal measures the
difference. Run::

    .venv/bin/python benchmarks/cross_generator.py --experiment study-40-epochs
    .venv/bin/python benchmarks/cross_generator.py --datasets original rw-classic-twins --experiment augment

Models already trained by ``paper_protocol_experiment.py`` with the same experiment,
seed and cache directory are reused, not retrained.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from paper_protocol_experiment import (  # noqa: E402
    BASELINE, DATASETS, EXPERIMENTS, ROOT, parse_override, auroc, data_task, train_and_score,
)

from ropbench.cache import Cache  # noqa: E402
from ropbench.registry import get_registry  # noqa: E402
from ropbench.stages.data import load_split  # noqa: E402
from ropbench.stages.train import load_trained_model  # noqa: E402
from ropbench.tasks import CellLabels, PluginRef, SplitCounts, TrainTask  # noqa: E402
from ropbench.training import predict_probabilities  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs=2, choices=sorted(DATASETS), default=["original", "rw-classic"])
    parser.add_argument("--experiment", choices=sorted(EXPERIMENTS), default="study-40-epochs")
    parser.add_argument("--set", nargs="*", default=["precision=bfloat16"],
                        help="extra training overrides key=value (as in paper_protocol_experiment.py)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--image-size", type=int, default=244)
    parser.add_argument("--counts", nargs=3, type=int, default=[1400, 200, 400])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--cache-dir", default=str(ROOT / ".ropbench-cache" / "experiments"))
    parser.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results" / "cross_generator.jsonl")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    overrides = {**EXPERIMENTS[args.experiment], **dict(parse_override(text) for text in args.set)}
    params = overrides.get("params", {})
    config = replace(BASELINE, **{k: v for k, v in overrides.items() if k != "params"})
    registry, cache = get_registry(), Cache(args.cache_dir)
    spec = registry.architectures.get("seed-cnn")
    data = {name: data_task(name, args.image_size, SplitCounts(*args.counts), args.seed) for name in args.datasets}
    rows = []
    for trained_on in args.datasets:
        def log(message: str, label: str = f"train on {trained_on}") -> None:
            print(f"{time.strftime('%H:%M:%S')} {label} {message}", flush=True)

        own = train_and_score(data[trained_on], "seed-cnn", params, config, args.seed, cache, log)
        task = TrainTask(cell=CellLabels(trained_on, "seed-cnn", seed=args.seed), data=data[trained_on],
                         architecture=PluginRef("seed-cnn", spec.version, {**spec.params, **params}), training=config,
                         image_size=args.image_size, seed=args.seed)
        model = load_trained_model(cache, task, registry)
        for tested_on in args.datasets:
            test = load_split(cache, data[tested_on], "test", registry)
            probabilities = predict_probabilities(model, test.images, batch_size=64, device="cpu")
            predicted = probabilities.argmax(dim=1)
            accuracy = float((predicted == test.labels).float().mean())
            row = {"trained_on": trained_on, "tested_on": tested_on, "experiment": args.experiment,
                   "overrides": overrides, "seed": args.seed, "test_accuracy": round(accuracy, 4),
                   "test_auroc": round(auroc(probabilities, test.labels), 4),
                   "sensitivity": round(float((predicted[test.labels == 1] == 1).float().mean()), 4),
                   "specificity": round(float((predicted[test.labels == 0] == 0).float().mean()), 4),
                   "predicted_rop_share": round(float(predicted.float().mean()), 4),
                   "train_seconds": own["train_seconds"], "load": os.getloadavg()[0]}
            rows.append(row)
            print(json.dumps(row), flush=True)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    with args.results.open("a", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row) + "\n")
    print(f"\n| trained on \\ tested on | {' | '.join(args.datasets)} |")
    print("|---|" + "---|" * len(args.datasets))
    for trained_on in args.datasets:
        cells = [next(f"{r['test_accuracy']:.3f} (AUROC {r['test_auroc']:.3f}, sensitivity {r['sensitivity']:.2f}, "
                      f"specificity {r['specificity']:.2f})" for r in rows
                      if r["trained_on"] == trained_on and r["tested_on"] == tested_on) for tested_on in args.datasets]
        print(f"| {trained_on} | {' | '.join(cells)} |")


if __name__ == "__main__":
    main()
