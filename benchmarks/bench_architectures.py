"""Training and inference throughput (images/s) per architecture on this CPU.

For every architecture and image size it times, after one warm-up step:

- train: forward + cross-entropy + backward + Adam step on a batch (train mode);
- infer: forward under ``torch.inference_mode`` (eval mode),

each repeated until ``--seconds`` have passed (at least two steps). CNNs are timed with
contiguous (NCHW) and channels-last memory; ViTs with contiguous only (their one
convolution is the patch embedding). Run::

    .venv/bin/python benchmarks/bench_architectures.py                 # all, 128 and 224 px
    .venv/bin/python benchmarks/bench_architectures.py --architectures seed-cnn gap-cnn --sizes 128

and it prints a markdown table (and writes JSON with ``--json``).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F

from ropbench.registry import get_registry
from ropbench.training import build_seeded


@dataclass
class Measurement:
    architecture: str
    image_size: int
    memory_format: str
    batch_size: int
    train_images_per_s: float
    infer_images_per_s: float


def _rate(step, batch_size: int, seconds: float) -> float:
    step()  # warm-up: allocator, oneDNN primitive caches
    steps, started = 0, time.perf_counter()
    while steps < 2 or time.perf_counter() - started < seconds:
        step()
        steps += 1
    return steps * batch_size / (time.perf_counter() - started)


def matmul_gflops(seconds: float = 1.0) -> float:
    """Achieved float32 GFLOP/s of a 1024^2 matmul now: tells a reader how loaded the CPU was."""
    a, b = torch.rand(1024, 1024), torch.rand(1024, 1024)
    return _rate(lambda: a @ b, 1, seconds) * 2 * 1024**3 / 1e9


def measure(name: str, image_size: int, channels_last: bool, batch_size: int, seconds: float) -> Measurement:
    spec = get_registry().architectures.get(name)
    model = build_seeded(spec, 2, image_size, spec.params, seed=0)
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    model.to(memory_format=memory_format)
    generator = torch.Generator().manual_seed(0)
    images = (torch.rand(batch_size, 3, image_size, image_size, generator=generator) * 2 - 1).contiguous(
        memory_format=memory_format
    )
    labels = torch.arange(batch_size) % 2
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def train_step() -> None:
        optimizer.zero_grad(set_to_none=True)
        F.cross_entropy(model(images), labels).backward()
        optimizer.step()

    def infer_step() -> None:
        with torch.inference_mode():
            model(images)

    model.train()
    train_rate = _rate(train_step, batch_size, seconds)
    model.eval()
    infer_rate = _rate(infer_step, batch_size, seconds)
    return Measurement(name, image_size, "channels_last" if channels_last else "contiguous", batch_size,
                       round(train_rate, 1), round(infer_rate, 1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    registry = get_registry()
    default_names = [n for n in registry.architectures if not n.endswith(":*")]
    parser.add_argument("--architectures", nargs="+", default=default_names)
    parser.add_argument("--sizes", nargs="+", type=int, default=[128, 224])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=3.0, help="minimum timed seconds per measurement")
    parser.add_argument("--json", help="also write the measurements to this JSON file")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    before = matmul_gflops()
    rows: list[Measurement] = []
    for name in args.architectures:
        spec = registry.architectures.get(name)
        for size in args.sizes:
            formats = (False, True) if spec.family == "cnn" else (False,)
            for channels_last in formats:
                row = measure(name, size, channels_last, args.batch_size, args.seconds)
                rows.append(row)
                print(f"{row.architecture:>28} {size:>4}px {row.memory_format:>13}  "
                      f"train {row.train_images_per_s:8.1f}/s  infer {row.infer_images_per_s:8.1f}/s", flush=True)

    after = matmul_gflops()
    print(f"\n{platform.processor() or platform.machine()}, torch {torch.__version__}, "
          f"{args.threads} threads, batch {args.batch_size}; matmul {before:.0f} GFLOP/s before, "
          f"{after:.0f} after (compare across machines / loads)\n")
    print("| architecture | px | memory format | train img/s | inference img/s |")
    print("|---|---|---|---|---|")
    for row in rows:
        print(f"| {row.architecture} | {row.image_size} | {row.memory_format} | "
              f"{row.train_images_per_s} | {row.infer_images_per_s} |")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump({"threads": args.threads, "torch": torch.__version__,
                       "matmul_gflops": [round(before, 1), round(after, 1)],
                       "rows": [asdict(r) for r in rows]}, handle, indent=2)


if __name__ == "__main__":
    main()
