"""Generator speed and memory: ms per image (images + all masks + indices) on ONE thread.

    python benchmarks/bench_generators.py            # speed table and streaming memory
    python benchmarks/bench_generators.py --quick    # fewer images, for a smoke check

Reports, per variant and side (128, 224, 512 px), the best of three runs in CPU time
(``time.process_time``: robust when other jobs share the machine) and wall time; then
the peak RSS of a fresh process streaming n=200 and n=2000 images at 128 px in chunks,
which should be about equal (memory flat in n). Target: <= 15 ms per image at 224 px.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before torch is imported

SIZES = (128, 224, 512)
TARGET_MS_224 = 15.0


def _time(spec, n: int, size: int, repeats: int = 3) -> tuple[float, float]:
    spec.generate(n=2, size=size, seed=99)  # warm-up: imports, allocator
    cpu, wall = [], []
    for repeat in range(repeats):
        c0, w0 = time.process_time(), time.perf_counter()
        spec.generate(n=n, size=size, seed=repeat)
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return min(cpu) / n * 1000, min(wall) / n * 1000


def _original_cost(images: int = 2) -> float:
    """Seconds per image of the original's way of drawing: pure-Python pixel painting.

    Not the original code: our trees, painted the way the original paints (a 1000-px
    list-of-lists grid, one Python step per pixel of path, each step painting a
    perpendicular line of ``width`` pixels either side, 360 steps per sine period).
    """
    import math

    import numpy as np

    from ropbench_plugins.generators import rng
    from ropbench_plugins.generators.walk_params import WalkParams
    from ropbench_plugins.generators.walkers import simulate_walkers

    grid_size, to_grid = 1000, 600.0
    started = time.process_time()
    for image in range(images):
        tree = simulate_walkers(rng.combine(np.uint64(1), [image]), np.array([image % 2 == 1]), WalkParams())
        grid = [[[0, 0, 0] for _ in range(grid_size)] for _ in range(grid_size)]
        x = tree.vertex_x * to_grid + 200
        y = tree.vertex_y * to_grid + 200
        for k in np.flatnonzero(tree.vertex_vessel[1:] == tree.vertex_vessel[:-1]).tolist():
            dx, dy = x[k + 1] - x[k], y[k + 1] - y[k]
            length = math.hypot(dx, dy)
            steps = 360 // 16 if tree.vertex_tortuous[k + 1] else max(1, int(length))
            px, py = -dy / max(length, 1e-9), dx / max(length, 1e-9)
            width = max(1, math.ceil(tree.vertex_half_width[k] * to_grid))
            for j in range(steps):
                cx, cy = x[k] + dx * j / steps, y[k] + dy * j / steps
                for side in (-1, 1):
                    for w in range(width):
                        gx, gy = int(cx + side * px * w), int(cy + side * py * w)
                        if 0 <= gx < grid_size and 0 <= gy < grid_size:
                            grid[gx][gy] = [255, 255, 255]
        np.array(grid, dtype=np.uint8)[200:800, 200:800]
    return (time.process_time() - started) / images


def _stream_rss(name: str, n: int, size: int) -> None:
    """Child mode: stream n images, print peak RSS in MiB."""
    import torch

    torch.set_num_threads(1)
    from ropbench.cli.generate import stream_batches
    from ropbench.registry import get_registry

    spec = get_registry().generators.get(name)
    total = 0
    for batch in stream_batches(spec, n, size, seed=0, params={}, chunk=64):
        total += int(batch.masks.sum())  # touch the data
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer images per timing")
    parser.add_argument("--rss", nargs=3, metavar=("NAME", "N", "SIZE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss:
        _stream_rss(args.rss[0], int(args.rss[1]), int(args.rss[2]))
        return 0

    import torch

    torch.set_num_threads(1)
    from ropbench.registry import get_registry

    registry = get_registry()
    names = [n for n in registry.generators if registry.generators.get(n).kind == "synthetic"]
    print(f"torch threads: {torch.get_num_threads()}; ms per image (images + masks + indices), best of 3")
    print(f"{'generator':<12}" + "".join(f"{f'{s} px cpu/wall':>22}" for s in SIZES))
    slow = []
    for name in names:
        spec = registry.generators.get(name)
        cells = []
        for size in SIZES:
            n = (8 if args.quick else 16) if size >= 512 else (16 if args.quick else 64)
            cpu, wall = _time(spec, n, size)
            cells.append(f"{cpu:9.2f} / {wall:8.2f}")
            if size == 224 and cpu > TARGET_MS_224:
                slow.append(f"{name}: {cpu:.1f} ms")
        print(f"{name:<12}" + "".join(f"{c:>22}" for c in cells))

    print("\npeak RSS of a fresh process streaming rw-classic at 128 px (chunks of 64):")
    for n in ((50, 200) if args.quick else (200, 2000)):
        out = subprocess.run(
            [sys.executable, __file__, "--rss", "rw-classic", str(n), "128"],
            capture_output=True, text=True, check=True,
        )
        print(f"  n={n:>5}: {float(out.stdout.strip()):8.1f} MiB")
    print(f"\nthe original's drawing (pure-Python pixel painting, 600-px crop): "
          f"{_original_cost():.2f} s CPU per image")
    if slow:
        print(f"\nover the {TARGET_MS_224} ms target at 224 px: {', '.join(slow)}")
        return 1
    print(f"\nall variants within {TARGET_MS_224} ms per image at 224 px (CPU time, one thread)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
