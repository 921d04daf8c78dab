"""Does bfloat16 training cost accuracy? The same short trainings in float32 and bfloat16.

The quick suite's setup (64 px, 800 training / 100 val / 100 test images, 15 epochs, batch
16, Adam 1e-3, plateau patience 3, augmentation, channels-last) on rw-classic with the
quick suite's pronounced tortuosity drawn as twins (``pairing = "twins"``: healthy and ROP
images are one tree drawn twice), for seed-cnn and the conv-stem ViT (Adam 3e-4, as in the
quick suite), each seed in float32 and in bfloat16, through ropbench's train stage.
Run::

    .venv/bin/python benchmarks/precision_accuracy.py                       # 2 architectures x 2 seeds x 2 precisions
    .venv/bin/python benchmarks/precision_accuracy.py --architectures seed-cnn --seeds 0

and it prints a markdown table (records are appended to ``--results``, a JSON line each).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from paper_protocol_experiment import ROOT, train_and_score  # noqa: E402

from ropbench.cache import Cache  # noqa: E402
from ropbench.registry import get_registry  # noqa: E402
from ropbench.tasks import CellLabels, DataTask, PluginRef, SplitCounts  # noqa: E402
from ropbench.training.config import TrainingConfig  # noqa: E402

GENERATOR = ("rw-classic", {"tortuous_probability": 0.4, "sine_damping": 0.0, "sine_wavelength_min": 0.08,
                            "pairing": "twins"})
QUICK = TrainingConfig(epochs=15, batch_size=16, learning_rate=1e-3, plateau_patience=3, plateau_factor=0.5,
                       early_stopping_patience=0, augment=True, channels_last=True, device="cpu")
ARCHITECTURES = {"seed-cnn": ({}, {}), "gap-cnn": ({}, {}),
                 "vit-convstem-tiny": ({}, {"learning_rate": 3e-4})}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--architectures", nargs="+", choices=sorted(ARCHITECTURES),
                        default=["seed-cnn", "vit-convstem-tiny"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--precisions", nargs="+", choices=["float32", "bfloat16"], default=["float32", "bfloat16"])
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--cache-dir", default=str(ROOT / ".ropbench-cache" / "experiments"))
    parser.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results" / "precision_accuracy.jsonl")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    registry = get_registry()
    name, params = GENERATOR
    spec = registry.generators.get(name)
    rows = []
    for seed in args.seeds:
        data = DataTask(cell=CellLabels("rw-classic-pronounced-twins", seed=seed),
                        generator=PluginRef(name, spec.version, {**spec.params, **params}), source="synthetic",
                        fingerprint=None, image_size=args.image_size, counts=SplitCounts(800, 100, 100), seed=seed)
        for architecture in args.architectures:
            arch_params, training = ARCHITECTURES[architecture]
            for precision in args.precisions:
                config = replace(QUICK, **training, precision=precision)

                def log(message: str, label: str = f"{architecture}/seed={seed}/{precision}") -> None:
                    print(f"{time.strftime('%H:%M:%S')} {label} {message}", flush=True)

                record = {"architecture": architecture, "seed": seed, "requested_precision": precision,
                          **train_and_score(data, architecture, arch_params, config, seed, Cache(args.cache_dir), log)}
                print(json.dumps(record), flush=True)
                with args.results.open("a", encoding="utf-8") as handle:
                    handle.write(json.dumps(record) + "\n")
                rows.append(record)
    print("\n| architecture | seed | precision | test accuracy | test AUROC | best epoch | train s | load |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['architecture']} | {r['seed']} | {r['precision']} | {r['test_accuracy']:.3f} | "
              f"{r['test_auroc']:.3f} | {r['best_epoch']} | {r['train_seconds']:.0f} | "
              f"{r['load_before']:.1f}-{r['load_after']:.1f} |")


if __name__ == "__main__":
    main()
