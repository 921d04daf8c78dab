"""What twins and their ink rule cost: CPU ms per image, one thread, best of 3.

    python scripts/twin_generation_speed.py

For rw-classic (defaults and the recommended quick data, ``rw-classic-bold``) and
rw-fundus at 64 and 128 px: unpaired, twins with straight healthy stretches
(``twin_ink = "free"``) and twins with bowed ones (the default). CPU time
(``time.process_time``) so that other jobs on the machine matter less.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before torch is imported

N_IMAGES = 128
MODES = (("none", {"pairing": "none"}), ("twins, free", {"pairing": "twins", "twin_ink": "free"}),
         ("twins, bowed", {"pairing": "twins", "twin_ink": "bowed"}))


def _cpu_ms(spec, size: int, params: dict) -> float:
    spec.generate(n=2, size=size, seed=99, **params)  # warm-up: imports, allocator
    best = float("inf")
    for repeat in range(3):
        started = time.process_time()
        spec.generate(n=N_IMAGES, size=size, seed=repeat, **params)
        best = min(best, time.process_time() - started)
    return best / N_IMAGES * 1000


def main() -> int:
    import torch

    from ropbench.registry import get_registry

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from shortcut_probe_table import BOLD

    torch.set_num_threads(1)
    registry = get_registry()
    print("| generator | size | " + " | ".join(label for label, _ in MODES) + " |")
    print("|---|---|" + "---|" * len(MODES))
    for label, name, extra in (("rw-classic", "rw-classic", {}), ("rw-classic-bold", "rw-classic", BOLD),
                               ("rw-fundus", "rw-fundus", {})):
        spec = registry.generators.get(name)
        for size in (64, 128):
            cells = [f"{_cpu_ms(spec, size, {**extra, **mode}):.2f}" for _, mode in MODES]
            print(f"| {label} | {size} | " + " | ".join(cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
