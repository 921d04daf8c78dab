"""The shortcut probe's 5-fold CV accuracy on every registered synthetic generator,
unpaired and as twins, with the vessels per image of each class.

    python scripts/shortcut_probe_table.py                 # print the markdown table
    python scripts/shortcut_probe_table.py --write-docs    # also put it into docs/generators.md

Deterministic: the images are seeded (seed 11, images 0..n-1), the folds are consecutive
index ranges (twins stay in one fold, as they stay in one split) and the regression is
the probe's own: standardised features, scikit-learn's LogisticRegression(C=1), seeded.
A generator without a ``pairing`` parameter gets an unpaired row only. The quick suite's
``rw-classic-pronounced`` is added as a row of its own.
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
            if name == "rw-classic":
                rows.append(("rw-classic-pronounced", name, PRONOUNCED))
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


def measure(n: int, size: int) -> list[dict[str, Any]]:
    import numpy as np
    import torch

    from ropbench.generation import generate_chunks
    from ropbench.imaging import to_model_input
    from ropbench.registry import get_registry
    from ropbench_plugins.architectures.shortcut_probe import tortuosity_blind_features

    torch.set_num_threads(1)
    registry = get_registry()
    results = []
    for label, name, params in _rows():
        spec = registry.generators.get(name)
        for pairing in ("none", "twins") if "pairing" in spec.params else ("none",):
            features, labels, counts = [], [], []
            for batch in generate_chunks(spec, n, size, SEED, 0, {**params, "pairing": pairing}, workers=os.cpu_count() or 1):
                features.append(tortuosity_blind_features(to_model_input(batch.images)).numpy())
                labels.append(batch.labels.numpy())
                counts += [m.get("vessel_count", float("nan")) for m in batch.metadata]
            x, y, vessels = np.concatenate(features), np.concatenate(labels), np.asarray(counts, dtype=float)
            mean, spread = _cv_accuracy(x, y)
            results.append({
                "generator": label, "pairing": pairing, "accuracy": mean, "spread": spread,
                "vessels_healthy": float(vessels[y == 0].mean()), "vessels_rop": float(vessels[y == 1].mean()),
            })
            print(f"{label} {pairing}: {mean:.3f}", file=sys.stderr, flush=True)
    return results


def markdown(results: list[dict[str, Any]], n: int, size: int) -> str:
    lines = [
        f"Shortcut probe, {FOLDS}-fold CV accuracy (mean ± sd over folds) on {n} images at {size} px, "
        f"seed {SEED}; made by `{COMMAND}`.",
        "",
        "| generator | pairing | probe accuracy | vessels per image, healthy / ROP |",
        "|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['generator']} | {r['pairing']} | {r['accuracy']:.3f} ± {r['spread']:.3f} | "
            f"{r['vessels_healthy']:.1f} / {r['vessels_rop']:.1f} |"
        )
    return "\n".join(lines)


def write_docs(table: str) -> None:
    text = DOCS.read_text()
    if START not in text or END not in text:
        raise SystemExit(f"{DOCS} lacks the markers {START} ... {END}")
    block = f"{START}\n{table}\n{END}"
    DOCS.write_text(re.sub(re.escape(START) + r".*?" + re.escape(END), lambda _: block, text, flags=re.S))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=600, help="images per generator and pairing (default 600)")
    parser.add_argument("--size", type=int, default=128, help="image side (default 128)")
    parser.add_argument("--write-docs", action="store_true", help=f"replace the table in {DOCS.name}")
    args = parser.parse_args()
    table = markdown(measure(args.n, args.size), args.n, args.size)
    print(table)
    if args.write_docs:
        write_docs(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
