"""A tiny hand-made run directory and cache, shaped exactly like the runner's output.

Two seeds, one generator, two architectures and a control classifier (the shortcut
probe); explanations (Grad-CAM; a rollout whose label differs from its plugin name) and
the random, vessel-map and oracle controls; 16 px images. Every score is chosen by hand
so that tests can derive verdicts, orders and headers without running anything:

- vessel-auroc CI lower bounds: gradcam clears 0.5 in both seeds (beats the prior);
  the rollout clears it in seed 0 only (does not); the oracle always; the others never.
- relevance-mass: the vessel map scores 0.64 / 0.66 (mean 0.650), above every
  explanation: the board must still list it after them.

Built in well under a second, so report tests never run a suite.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import torch

from ropbench.cache import Cache
from ropbench.results import RESULT_COLUMNS, write_table

GENERATOR = "rw-fake"
SIZE = 16
N_TEST = 8
PERCENTILES = (50, 75, 80, 90, 95)
SEEDS = (0, 1)
MODELS = ("seed-cnn", "vit_tiny_patch16")
PROBE = "shortcut-probe"
CONTROLS = ("random", "vessel-map", "oracle")
# (architecture, explainer label): the explanations; plugin names where the label differs.
EXPLANATIONS = (("seed-cnn", "gradcam"), ("vit_tiny_patch16", "rollout"))
EXPLAINER_NAMES = {"rollout": "attention-rollout"}
CELLS = EXPLANATIONS + tuple((a, c) for a in MODELS for c in CONTROLS)
# Test labels: healthy, ROP alternating; explained = ROP images 1, 3, 5, 7. The seed-0
# rollout explained only a subset, so the gallery must use the indices every cell shares.
LABELS = torch.tensor([0, 1] * (N_TEST // 2))
EXPLAINED = {("vit_tiny_patch16", "rollout", 0): (3, 5, 7)}
# P(ROP) per test image: seed-cnn gets image 6 wrong (healthy called ROP) and image 7
# wrong (ROP called healthy); the ViT and the probe call everything ROP.
PROBABILITIES = {
    "seed-cnn": torch.tensor([0.1, 0.9, 0.2, 0.8, 0.3, 0.7, 0.6, 0.4]),
    "vit_tiny_patch16": torch.full((N_TEST,), 0.55),
    PROBE: torch.full((N_TEST,), 0.5),
}
ACCURACY = {"seed-cnn": 0.75, "vit_tiny_patch16": 0.5, PROBE: 0.5}
# Per explainer and seed: (value, ci_low, ci_high). Controls are model-free: the same for
# both architectures.
VESSEL_AUROC = {
    "gradcam": ((0.80, 0.62, 0.95), (0.78, 0.55, 0.93)),
    "rollout": ((0.70, 0.58, 0.81), (0.52, 0.41, 0.64)),
    "random": ((0.50, 0.31, 0.69), (0.49, 0.30, 0.66)),
    "vessel-map": ((0.50, 0.50, 0.50), (0.50, 0.50, 0.50)),
    "oracle": ((1.00, 1.00, 1.00), (1.00, 1.00, 1.00)),
}
PRIOR_SKILL = {
    "gradcam": ((0.20, -0.05, 0.40), (0.10, -0.10, 0.30)),
    "rollout": ((0.05, -0.10, 0.20), (-0.05, -0.20, 0.10)),
    "random": ((-0.60, -0.70, -0.50), (-0.60, -0.70, -0.50)),
    "vessel-map": ((0.0, 0.0, 0.0), (0.0, 0.0, 0.0)),
    "oracle": ((1.0, 1.0, 1.0), (1.0, 1.0, 1.0)),
}
RELEVANCE_MASS = {"gradcam": (0.50, 0.52), "rollout": (0.30, 0.32), "random": (0.14, 0.14),
                  "vessel-map": (0.64, 0.66), "oracle": (1.0, 1.0)}
RELEVANCE_CHANCE = 0.14
STUDY_CHANCE = 0.24  # the vessel-weighted share: what a random or a vessel map gets


def precision_value(architecture: str, explainer: str, seed: int, p: int) -> float:
    """A distinct, predictable all-pixel precision per row so tests can find it."""
    return round(0.1 + 0.01 * p / 10 + 0.05 * CELLS.index((architecture, explainer)) + 0.02 * seed, 6)


def study_precision_value(explainer: str, seed: int, p: int) -> float:
    """The study-protocol precision: the random and vessel maps at the chance share,
    the others above it (the rollout 0.05 above Grad-CAM)."""
    if explainer in ("random", "vessel-map"):
        return STUDY_CHANCE
    return round(0.30 + 0.004 * p + 0.01 * seed + (0.05 if explainer == "rollout" else 0.0), 6)


def _test_split(seed: int) -> dict[str, torch.Tensor | str]:
    generator = torch.Generator().manual_seed(seed)
    masks = torch.zeros(N_TEST, SIZE, SIZE, dtype=torch.bool)
    masks[1::2, 4:10, 4:10] = True
    vessels = torch.zeros(N_TEST, SIZE, SIZE)
    vessels[:, :, 6] = 1.0
    return {
        "images": torch.randint(0, 256, (N_TEST, 3, SIZE, SIZE), generator=generator, dtype=torch.uint8),
        "labels": LABELS.clone(),
        "masks": masks,
        "tortuous_vessels": masks & (vessels > 0.5),
        "vessels": vessels,
        "metadata": json.dumps([{"index": i} for i in range(N_TEST)]),
        "vessel_segments": (vessels > 0.5).to(torch.int32),
    }


def _row(base: dict, metric: str, kind: str, value: float, chance: float, ci: tuple[float, float] | None = None,
         n_images: int = 4, higher_is_better: bool = True) -> dict:
    low, high = ci if ci is not None else (float("nan"), float("nan"))
    return {**base, "metric": metric, "kind": kind, "higher_is_better": higher_is_better, "value": value,
            "chance": chance, "chance_normalised": 0.0, "ci_low": low, "ci_high": high, "n_images": n_images}


def _rows(architecture: str, explainer: str, seed: int) -> list[dict]:
    base = {"suite": "fake", "generator": GENERATOR, "architecture": architecture, "explainer": explainer,
            "seed": seed, "n_excluded": 0}
    if explainer == "-":
        return [_row(base, "accuracy", "classification", ACCURACY[architecture], 0.5, n_images=N_TEST)]
    auroc, skill = VESSEL_AUROC[explainer][seed], PRIOR_SKILL[explainer][seed]
    rows = [_row(base, "vessel-auroc", "localization", auroc[0], 0.5, auroc[1:]),
            _row(base, "prior-skill", "localization", skill[0], -0.2, skill[1:]),
            _row(base, "relevance-mass", "localization", RELEVANCE_MASS[explainer][seed], RELEVANCE_CHANCE),
            _row(base, "deletion-auc", "faithfulness", 0.3 + 0.01 * seed, 0.4, higher_is_better=False)]
    for p in PERCENTILES:
        rows += [_row(base, f"percentile-precision@{p}", "localization", precision_value(architecture, explainer,
                                                                                          seed, p), 0.14),
                 _row(base, f"percentile-recall@{p}", "localization", round(1 - p / 100 + 0.05, 6), 1 - p / 100),
                 _row(base, f"study-precision@{p}", "localization", study_precision_value(explainer, seed, p),
                      STUDY_CHANCE),
                 _row(base, f"study-recall@{p}", "localization", round(1 - p / 100, 6), 1 - p / 100)]
    return rows


def _entry(label: str, name: str) -> dict:
    return {"label": label, "name": name, "params": {}, "training": {}, "version": "1"}


def _task(stage: str, key: str, architecture: str, explainer: str, seed: int, inputs: dict) -> dict:
    label = "/".join(p for p in (GENERATOR, architecture if architecture != "-" else "", f"seed={seed}",
                                 explainer if explainer != "-" else "") if p)
    return {"stage": stage, "label": label, "key": key, "generator": GENERATOR, "architecture": architecture,
            "explainer": explainer, "seed": seed, "inputs": inputs, "status": "done", "seconds": 0.1,
            "produced_by": {"ropbench": "0.1.0", "threads": 1}, "info": {}}


def heatmap_key(architecture: str, explainer: str, seed: int) -> str:
    return f"{seed:02d}{CELLS.index((architecture, explainer)):02d}" + "h" * 60


def train_key(architecture: str, seed: int) -> str:
    return f"{seed:02d}{(*MODELS, PROBE).index(architecture):02d}" + "t" * 60


def make_fake_run(root: Path) -> Path:
    """Write ``root/run`` (results.csv, manifest.json) and ``root/cache``; return the run dir."""
    cache = Cache(root / "cache")
    run_dir = root / "run"
    run_dir.mkdir(parents=True)
    rows, tasks = [], []
    for seed in SEEDS:
        data_key = f"{seed:02d}" + "d" * 62
        cache.save_tensors("data", data_key, _test_split(seed), suffix=".test.pt")
        tasks.append(_task("data", data_key, "-", "-", seed, {}))
        for architecture in (*MODELS, PROBE):
            rop = PROBABILITIES[architecture]
            cache.save_tensors("predictions", train_key(architecture, seed),
                               {"probabilities": torch.stack([1 - rop, rop], dim=1)})
            tasks.append(_task("train", train_key(architecture, seed), architecture, "-", seed, {"data": data_key}))
            rows += _rows(architecture, "-", seed)
        for number, (architecture, explainer) in enumerate(CELLS):
            explained = EXPLAINED.get((architecture, explainer, seed), (1, 3, 5, 7))
            heatmaps = torch.rand(len(explained), SIZE, SIZE, generator=torch.Generator().manual_seed(number))
            key = heatmap_key(architecture, explainer, seed)
            cache.save_tensors("heatmaps", key, {"heatmaps": heatmaps, "rows": torch.tensor(explained), "excluded": 4})
            tasks.append(_task("explain", key, architecture, explainer, seed,
                               {"data": data_key, "train": train_key(architecture, seed)}))
            rows += _rows(architecture, explainer, seed)
    write_table(pd.DataFrame(rows, columns=RESULT_COLUMNS), run_dir / "results.csv")
    explainers = [_entry(e, EXPLAINER_NAMES.get(e, e)) for e in ("gradcam", "rollout", *CONTROLS)]
    manifest = {
        "ropbench_version": "0.1.0", "seeds": list(SEEDS), "cache_dir": str((root / "cache").resolve()),
        "suite": {"name": "fake", "description": "hand-made", "image_size": SIZE, "tolerances": {},
                  "architectures": [_entry(a, a) for a in (*MODELS, PROBE)], "explainers": explainers,
                  "training": {"learning_rate": 0.001}, "scoring": {"target": "region"}},
        "controls": {"explainers": list(CONTROLS), "architectures": [PROBE]},
        "unsupported_pairs": [{"generator": GENERATOR, "architecture": "vit_tiny_patch16", "explainer": "gradcam",
                               "reason": "gradcam does not support vit_tiny_patch16"}],
        "failures": [], "interrupted": False, "tasks": tasks, "wall_seconds": 1.0,
    }
    (run_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
    return run_dir
