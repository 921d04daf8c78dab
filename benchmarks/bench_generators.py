"""Generator speed and memory: ms per image (images + all masks + indices) on ONE thread.

    python benchmarks/bench_generators.py            # speed table and streaming memory
    python benchmarks/bench_generators.py --quick    # fewer images, for a smoke check

Reports, per variant and side (128, 224, 600 px), the best of three runs in CPU time
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

SIZES = (128, 224, 600)
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


def _stream_rss(name: str, n: int, size: int) -> None:
    """Child mode: stream n images, print peak RSS in MiB."""
    import torch

    torch.set_num_threads(1)
    from ropbench.generation import generate_chunks
    from ropbench.registry import get_registry

    spec = get_registry().generators.get(name)
    total = 0
    for batch in generate_chunks(spec, n, size, seed=0, chunk=64):
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
    names = [n for n in registry.generators if registry.generators.get(n).source == "synthetic"]
    print(f"torch threads: {torch.get_num_threads()}; ms per image (images + masks + indices), best of 3")
    print(f"{'generator':<12}" + "".join(f"{f'{s} px cpu/wall':>22}" for s in SIZES))
    slow = []
    for name in names:
        spec = registry.generators.get(name)
        cells = []
        for size in SIZES:
            n = (8 if args.quick else 23) if size >= 512 else (16 if args.quick else 64)
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
    print("\nagainst the original algorithm: python benchmarks/bench_original_generator.py")
    if slow:
        print(f"\nover the {TARGET_MS_224} ms target at 224 px: {', '.join(slow)}")
        return 1
    print(f"\nall variants within {TARGET_MS_224} ms per image at 224 px (CPU time, one thread)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
