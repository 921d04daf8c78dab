"""ropbench's 600-px export against the original study's way of drawing retinas.

    python benchmarks/bench_original_generator.py                # 3 original images, n=1000 export
    python benchmarks/bench_original_generator.py --n 200 --original-images 2

In one process run:

(a) ``paint_original``: a re-implementation of the original generator's algorithm from
    its description in DESIGN.md ("The study this comes from"), written for this
    benchmark (the original's code is not used): pure-Python random walkers on a
    1000 x 1000 list-of-lists canvas, each moving pixel by pixel and painting, at every
    pixel of its path, a perpendicular line of its width on either side (white on black),
    tortuous walkers' sine moves painted in 360 steps per period, tortuous centreline
    points recorded; the central 600 x 600 crop is saved as a PNG with its points, as
    the original exports it. Timed per image (CPU time of this process).
(b) ``ropbench generate rw-classic --size 600 --format seed`` run in this process (after
    the imports) with ``--workers 1`` and ``--workers 2``; wall time per image, and
    whether both outputs are byte-identical.

Prints the per-image times, the ratios, and the load average next to each figure: the
machine is shared, and a busy machine slows every figure.
"""

from __future__ import annotations

import argparse
import filecmp
import math
import os
import random
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before torch is imported

GRID = 1000  # the original's canvas; the picture is its central 600 x 600
CROP = 600
MARGIN = (GRID - CROP) // 2
ORIGINAL_MS_MEASURED = 942.0  # the original generator, measured on this machine (1 core)


class _Walker:
    """One vessel of the original: position, heading, width, age and fertility."""

    def __init__(self, x: float, y: float, heading: float, width: float, max_moves: float,
                 fertility: float, tortuous: bool, moves: int = 0) -> None:
        self.x, self.y, self.heading, self.width = x, y, heading, width
        self.max_moves, self.fertility, self.tortuous, self.moves = max_moves, fertility, tortuous, moves


def _field_heading(walker: _Walker, source: tuple[float, float]) -> float:
    """Momentum blended with the source/sink field (sink 10x, mirrored through the
    centre) and a pull toward the source-sink midpoint."""
    sx, sy = source
    kx, ky = GRID - sx, GRID - sy
    rx, ry = walker.x - sx, walker.y - sy
    qx, qy = walker.x - kx, walker.y - ky
    r3 = max(math.hypot(rx, ry) ** 3, 1e-9)
    q3 = max(math.hypot(qx, qy) ** 3, 1e-9)
    fx, fy = rx / r3 - 10 * qx / q3, ry / r3 - 10 * qy / q3
    norm = math.hypot(fx, fy) or 1.0
    mx, my = (sx + kx) / 2 - walker.x, (sy + ky) / 2 - walker.y
    mnorm = math.hypot(mx, my) or 1.0
    hx = 0.05 * fx / norm + 0.01 * mx / mnorm + 0.94 * math.cos(walker.heading)
    hy = 0.05 * fy / norm + 0.01 * my / mnorm + 0.94 * math.sin(walker.heading)
    return math.atan2(hy, hx)


def _paint(grid: list, x: float, y: float, heading: float, width: float) -> None:
    """The original's brush: a line of ``width`` pixels either side, across the heading."""
    across_x, across_y = -math.sin(heading), math.cos(heading)
    for side in (-1, 1):
        for step in range(max(1, int(width))):
            px, py = int(x + side * across_x * step), int(y + side * across_y * step)
            if 0 <= px < GRID and 0 <= py < GRID:
                grid[px][py] = [255, 255, 255]


def paint_original(rng: random.Random, rop: bool) -> tuple["object", list[tuple[float, float]]]:
    """One retina drawn the original's way: uint8 [600, 600, 3] and its tortuous points."""
    import numpy as np

    grid = [[[0, 0, 0] for _ in range(GRID)] for _ in range(GRID)]
    band = rng.uniform(50, 200)
    source = (MARGIN + (band if rng.random() < 0.5 else CROP - band), MARGIN + (band if rng.random() < 0.5 else CROP - band))
    spin = rng.uniform(0, 60)
    tortuous_roots = set(rng.sample(range(6), 4)) if rop else set()
    walkers = []
    for k in range(6):
        angle = math.radians(spin + 60 * k)
        walkers.append(_Walker(source[0] + 10 * math.cos(angle), source[1] + 10 * math.sin(angle), angle,
                               width=3.0, max_moves=15, fertility=0.6, tortuous=k in tortuous_roots))
    points: list[tuple[float, float]] = []
    while walkers:
        walker = walkers.pop()
        while walker.moves < walker.max_moves and 0 <= walker.x < GRID and 0 <= walker.y < GRID:
            walker.moves += 1
            if walker.tortuous and rng.random() < 0.1:
                _sine_move(grid, walker, source, rng, points)
            else:
                for _ in range(3):  # three straight sub-steps, painted pixel by pixel
                    walker.heading = _field_heading(walker, source) + math.radians(rng.uniform(-15, 15))
                    for _ in range(int(rng.uniform(1.67, 49.5))):
                        walker.x += math.cos(walker.heading)
                        walker.y += math.sin(walker.heading)
                        _paint(grid, walker.x, walker.y, walker.heading, walker.width)
                        walker.width *= 0.99
            rate = walker.fertility * (0.75 if walker.tortuous else 1.0)
            if walker.moves >= 2 and rng.random() < rate:
                turn = math.radians(rng.uniform(15, 90)) * (1 if rng.random() < 0.5 else -1)
                walkers.append(_Walker(walker.x, walker.y, walker.heading + turn, walker.width / 2,
                                       walker.max_moves / 2, walker.fertility * 0.1, walker.tortuous, walker.moves))
    picture = np.array(grid, dtype=np.uint8)[MARGIN : MARGIN + CROP, MARGIN : MARGIN + CROP]
    return picture, points


def _sine_move(grid: list, walker: _Walker, source: tuple[float, float], rng: random.Random, points: list) -> None:
    """Two sine periods across the heading, amplitude wavelength/2 x exp(-0.1 age), 360 steps each."""
    for _ in range(2):
        walker.heading = _field_heading(walker, source) + math.radians(rng.uniform(-15, 15))
        wavelength = rng.uniform(33.3, 165.0)
        amplitude = wavelength / 2 * math.exp(-0.1 * walker.moves)
        ax, ay = walker.x, walker.y
        cos_h, sin_h = math.cos(walker.heading), math.sin(walker.heading)
        for step in range(1, 361):
            phase = step / 360
            offset = amplitude * math.sin(2 * math.pi * phase)
            x = ax + cos_h * wavelength * phase - sin_h * offset
            y = ay + sin_h * wavelength * phase + cos_h * offset
            _paint(grid, x, y, walker.heading, walker.width)
            walker.width *= 0.99
            if MARGIN <= x < MARGIN + CROP and MARGIN <= y < MARGIN + CROP:
                points.append((x - MARGIN, y - MARGIN))
        walker.x, walker.y = ax + cos_h * wavelength, ay + sin_h * wavelength


def time_original(images: int, out: Path) -> float:
    """CPU seconds per image of ``paint_original`` including its PNG and points export."""
    from PIL import Image

    rng = random.Random(0)
    started = time.process_time()
    with (out / "data.csv").open("w") as table:
        for index in range(images):
            picture, points = paint_original(rng, rop=index % 2 == 1)
            Image.fromarray(picture).save(out / f"{index}.png")
            table.write(f"{index}.png\t{index % 2}\t{points!r}\n")
    return (time.process_time() - started) / images


def time_export(n: int, workers: int, out: Path) -> float:
    """Wall seconds per image of ``ropbench generate rw-classic --size 600 --format seed``."""
    from ropbench.cli.main import main

    argv = ["generate", "rw-classic", "--n", str(n), "--size", "600", "--format", "seed", "--out", str(out),
            "--workers", str(workers), "--sheet", "0"]
    started = time.perf_counter()
    if main(argv) != 0:
        raise SystemExit(f"ropbench generate failed: {' '.join(argv)}")
    return (time.perf_counter() - started) / n


def _same_tree(left: Path, right: Path) -> bool:
    files = sorted(p.relative_to(left) for p in left.rglob("*") if p.is_file())
    if files != sorted(p.relative_to(right) for p in right.rglob("*") if p.is_file()):
        return False
    _, mismatch, errors = filecmp.cmpfiles(left, right, [str(f) for f in files], shallow=False)
    return not mismatch and not errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1000, help="images exported by ropbench per run (default 1000)")
    parser.add_argument("--original-images", type=int, default=3, help="images drawn the original's way (default 3)")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(1)
    load = lambda: f"load {os.getloadavg()[0]:.2f}"  # noqa: E731
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        (root / "original").mkdir()
        print(f"cores: {os.cpu_count()}; {load()}")
        original = time_original(args.original_images, root / "original")
        print(f"(a) original algorithm, re-implemented (pure Python, 1000-px canvas, 600-px crop): "
              f"{original * 1000:.0f} ms per image CPU over {args.original_images} images ({load()})")
        exports = {}
        for workers in (1, 2):
            exports[workers] = time_export(args.n, workers, root / f"export-{workers}")
            print(f"(b) ropbench generate rw-classic --n {args.n} --size 600 --format seed --workers {workers}: "
                  f"{exports[workers] * 1000:.2f} ms per image wall ({load()})")
        identical = _same_tree(root / "export-1", root / "export-2")
    best = min(exports.values())
    print(f"outputs of 1 and 2 workers byte-identical: {identical}")
    print(f"speed-up per image: {original / best:.0f}x over the re-implementation, "
          f"{ORIGINAL_MS_MEASURED / 1000 / best:.0f}x over the original's measured {ORIGINAL_MS_MEASURED:.0f} ms")
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
