"""A tiny hand-made run directory and cache, shaped exactly like the runner's output.

Two seeds, one generator, two architectures (one with two explainers); 16 px images;
known probabilities so confusion matrices can be checked by hand. Built in well under
a second, so report tests never run a suite.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from ropbench.cache import Cache
from ropbench.results import RESULT_COLUMNS, write_table

import pandas as pd

GENERATOR = "rw-fake"
SIZE = 16
N_TEST = 8
PERCENTILES = (50, 75, 80, 90, 95)
CELLS = (("seed-cnn", "gradcam"), ("seed-cnn", "random"), ("vit_tiny_patch16", "attention-rollout"))
SEEDS = (0, 1)
# Test labels: healthy, ROP alternating; explained = ROP images 1, 3, 5, 7. The seed-0 ViT
# explained only a subset, so the gallery must use the indices every cell shares.
LABELS = torch.tensor([0, 1] * (N_TEST // 2))
EXPLAINED = {("vit_tiny_patch16", "attention-rollout", 0): (3, 5, 7)}
# P(ROP) per test image: seed-cnn gets image 6 wrong (healthy called ROP) and image 7
# wrong (ROP called healthy); the ViT calls everything ROP.
PROBABILITIES = {
    "seed-cnn": torch.tensor([0.1, 0.9, 0.2, 0.8, 0.3, 0.7, 0.6, 0.4]),
    "vit_tiny_patch16": torch.full((N_TEST,), 0.55),
}


def precision_value(architecture: str, explainer: str, seed: int, p: int) -> float:
    """A distinct, predictable value per row so tests can find it in the report."""
    return round(0.1 + 0.01 * p / 10 + 0.2 * CELLS.index((architecture, explainer)) + 0.02 * seed, 6)


def _test_split(seed: int) -> dict[str, torch.Tensor | list]:
    generator = torch.Generator().manual_seed(seed)
    masks = torch.zeros(N_TEST, SIZE, SIZE, dtype=torch.bool)
    masks[1::2, 4:10, 4:10] = True
    return {
        "images": torch.randint(0, 256, (N_TEST, 3, SIZE, SIZE), generator=generator, dtype=torch.uint8),
        "labels": LABELS.clone(),
        "masks": masks,
        "tortuous_vessels": masks & (torch.arange(SIZE) % 2 == 0),
        "vessels": torch.rand(N_TEST, SIZE, SIZE, generator=generator),
        "metadata": [{} for _ in range(N_TEST)],
    }


def _rows(architecture: str, explainer: str, seed: int) -> list[dict]:
    base = {"suite": "fake", "generator": GENERATOR, "architecture": architecture, "explainer": explainer,
            "seed": seed, "ci_low": float("nan"), "ci_high": float("nan"), "n_excluded": 0}
    if explainer == "-":
        accuracy = 0.75 if architecture == "seed-cnn" else 0.5
        return [{**base, "metric": "accuracy", "kind": "classification", "higher_is_better": True,
                 "value": accuracy, "chance": 0.5, "chance_normalised": 0.0, "n_images": N_TEST}]
    rows = []
    for p in PERCENTILES:
        for name, value, chance in (("precision", precision_value(architecture, explainer, seed, p), 0.14),
                                    ("recall", round(1 - p / 100 + 0.05, 6), 1 - p / 100)):
            rows.append({**base, "metric": f"percentile-{name}@{p}", "kind": "localization",
                         "higher_is_better": True, "value": value, "chance": chance,
                         "chance_normalised": 0.0, "n_images": 4})
    return rows


def make_fake_run(root: Path) -> Path:
    """Write ``root/run`` (results.csv, manifest.json) and ``root/cache``; return the run dir."""
    cache = Cache(root / "cache")
    run_dir = root / "run"
    run_dir.mkdir(parents=True)
    rows, cells = [], {}
    for seed in SEEDS:
        data_key = f"{seed:02d}" + "d" * 62
        test = _test_split(seed)
        cache.save_tensors("data", data_key, {"train": test, "val": test, "test": test})
        for architecture in sorted({a for a, _ in CELLS}):
            model_key = f"{seed:02d}" + architecture[:1] * 62
            rop = PROBABILITIES[architecture]
            cache.save_tensors("models", model_key, {
                "state_dict": {}, "history": [], "best_epoch": 1, "train_seconds": 0.1,
                "test_probabilities": torch.stack([1 - rop, rop], dim=1)})
            cells[f"{GENERATOR}/{architecture}/seed={seed}"] = {"model_key": model_key, "data_key": data_key}
            rows += _rows(architecture, "-", seed)
        for number, (architecture, explainer) in enumerate(CELLS):
            indices = EXPLAINED.get((architecture, explainer, seed), (1, 3, 5, 7))
            heatmap_key = f"{seed:02d}{number}" + "h" * 61
            heatmaps = torch.rand(len(indices), SIZE, SIZE, generator=torch.Generator().manual_seed(number))
            cache.save_tensors("heatmaps", heatmap_key, {"heatmaps": heatmaps, "indices": torch.tensor(indices)})
            cells[f"{GENERATOR}/{architecture}/seed={seed}/{explainer}"] = {
                "heatmap_key": heatmap_key, "model_key": f"{seed:02d}" + architecture[:1] * 62,
                "data_key": data_key, "explained_indices": list(indices), "target": "region",
                "explained": len(indices), "excluded": 0}
            rows += _rows(architecture, explainer, seed)
    write_table(pd.DataFrame(rows, columns=RESULT_COLUMNS), run_dir / "results.csv")
    manifest = {"ropbench_version": "0.1.0", "seeds": list(SEEDS), "cache_dir": str((root / "cache").resolve()),
                "suite": {"name": "fake", "description": "hand-made", "image_size": SIZE, "tolerances": {}},
                "failures": [], "tasks": [], "cells": cells, "wall_seconds": 1.0}
    (run_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
    return run_dir
