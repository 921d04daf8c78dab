"""The shortcut probe's 5-fold CV accuracy on every registered synthetic generator,
unpaired and as twins under each ``twin_ink`` rule, with the twins' vessel-ink ratio.

    python scripts/shortcut_probe_table.py                 # print the markdown table
    python scripts/shortcut_probe_table.py --write-docs    # also put it into docs/generators.md

Deterministic: the images are seeded (seed 11, images 0..n-1), the folds are consecutive
index ranges (twins stay in one fold, as they stay in one split) and the regression is
the probe's own: standardised features, scikit-learn's LogisticRegression(C=1), seeded.
A generator without a ``pairing`` parameter gets an unpaired column only. Two rw-classic
variants get rows of their own: ``rw-classic-pronounced`` (the old quick suite's data)
and ``rw-classic-bold`` (wide vessels and frequent gentle bursts: the recommended quick
data).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path
from typing import Any, Mapping

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before torch is imported

DOCS = Path(__file__).resolve().parent.parent / "docs" / "generators.md"
START, END = "<!-- shortcut-probe-table:start -->", "<!-- shortcut-probe-table:end -->"
COMMAND = "python scripts/shortcut_probe_table.py --write-docs"
PRONOUNCED = {"tortuous_probability": 0.4, "sine_damping": 0.0, "sine_wavelength_min": 0.08}
BOLD = {
    "tortuous_probability": 0.25, "sine_damping": 0.0, "sine_amplitude_ratio": 0.2,
    "sine_wavelength_min": 0.1, "sine_wavelength_max": 0.16,
    "root_half_width": 0.012, "min_half_width": 0.008, "sine_width_factor": 1.0,
}
VARIANT_ROWS = {"rw-classic": (("rw-classic-pronounced", PRONOUNCED), ("rw-classic-bold", BOLD))}
# Columns: (heading, params); "twins, bowed" is the generators' default twin mode.
COLUMNS = (
    ("none", {"pairing": "none"}),
    ("twins, free", {"pairing": "twins", "twin_ink": "free"}),
    ("twins, widened", {"pairing": "twins", "twin_ink": "widened"}),
    ("twins, bowed", {"pairing": "twins", "twin_ink": "bowed"}),
)
FOLDS = 5
SEED = 11


def _rows() -> list[tuple[str, str, Mapping[str, Any]]]:
    """(label, generator name, params) for every registered synthetic generator."""
    from ropbench.registry import get_registry

    registry = get_registry()
    rows = []
    for name in registry.generators:
        if registry.generators.get(name).source == "synthetic":
            rows.append((name, name, {}))
            rows += [(label, name, params) for label, params in VARIANT_ROWS.get(name, ())]
    return rows


def _cv_accuracy(features, labels) -> tuple[float, float]:
    """Mean and spread over folds of the probe's held-out accuracy."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import KFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    probe = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, random_state=0, max_iter=5000))
    scores = cross_val_score(probe, features, labels, cv=KFold(FOLDS, shuffle=False))
    return float(np.mean(scores)), float(np.std(scores))


def _cell(spec, n: int, size: int, seed: int, params: Mapping[str, Any]) -> dict[str, float]:
    """Probe accuracy (mean, sd over folds) and mean vessel-plane ink of ROP over healthy
    images (twins: per pair; unpaired: per class)."""
    import numpy as np

    from ropbench.generation import generate_chunks
    from ropbench.imaging import to_model_input
    from ropbench_plugins.architectures.shortcut_probe import tortuosity_blind_features

    features, labels, ink = [], [], []
    for batch in generate_chunks(spec, n, size, seed, 0, params, workers=os.cpu_count() or 1):
        features.append(tortuosity_blind_features(to_model_input(batch.images)).numpy())
        labels.append(batch.labels.numpy())
        ink.append(batch.vessels.flatten(1).sum(1).numpy())
    x, y, ink_of = np.concatenate(features), np.concatenate(labels), np.concatenate(ink)
    mean, spread = _cv_accuracy(x, y)
    if params.get("pairing") == "twins":
        ratio = float(np.mean(ink_of[1::2] / ink_of[0::2]))
    else:
        ratio = float(ink_of[y == 1].mean() / ink_of[y == 0].mean())
    return {"accuracy": mean, "spread": spread, "ink": ratio}


def measure(n: int, sizes: list[int], seed: int = SEED) -> list[dict[str, Any]]:
    """One result per (generator row, size): its cells by column heading."""
    import torch

    from ropbench.registry import get_registry

    torch.set_num_threads(1)
    registry = get_registry()
    results = []
    for size in sizes:
        for label, name, params in _rows():
            spec = registry.generators.get(name)
            columns = COLUMNS if "pairing" in spec.params else COLUMNS[:1]
            cells = {}
            for heading, mode in columns:
                cells[heading] = _cell(spec, n, size, seed, {**params, **mode})
                print(f"{label} {size} px {heading}: {cells[heading]['accuracy']:.3f}", file=sys.stderr, flush=True)
            results.append({"generator": label, "size": size, "cells": cells})
    return results


def markdown(results: list[dict[str, Any]], n: int, seed: int = SEED) -> str:
    headings = [heading for heading, _ in COLUMNS]
    lines = [
        f"Shortcut probe, {FOLDS}-fold CV accuracy (mean ± sd over folds) on {n} images, seed {seed}, "
        f"and in brackets the vessel ink (sum of the vessel plane) of ROP over healthy images "
        f"(twins: mean over pairs); made by `{COMMAND}`.",
        "",
        "| generator | size | " + " | ".join(headings) + " |",
        "|---|---|" + "---|" * len(headings),
    ]
    for r in results:
        cells = [
            f"{c['accuracy']:.3f} ± {c['spread']:.3f} ({c['ink']:.2f})" if (c := r["cells"].get(h)) else "-"
            for h in headings
        ]
        lines.append(f"| {r['generator']} | {r['size']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_docs(table: str) -> None:
    text = DOCS.read_text()
    if START not in text or END not in text:
        raise SystemExit(f"{DOCS} lacks the markers {START} ... {END}")
    block = f"{START}\n{table}\n{END}"
    DOCS.write_text(re.sub(re.escape(START) + r".*?" + re.escape(END), lambda _: block, text, flags=re.S))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=2000, help="images per cell (default 2000)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 128], help="image sides (default 64 128)")
    parser.add_argument("--seed", type=int, default=SEED, help=f"generator seed (default {SEED}, the docs' table)")
    parser.add_argument("--write-docs", action="store_true", help=f"replace the table in {DOCS.name}")
    args = parser.parse_args()
    table = markdown(measure(args.n, args.sizes, args.seed), args.n, args.seed)
    print(table)
    if args.write_docs:
        write_docs(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
