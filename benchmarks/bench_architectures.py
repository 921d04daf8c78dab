"""Training and inference throughput (images/s) per architecture, precision and memory format.

For every case (architecture, image size, batch size: by default the shipped suites'
settings) and every format it times, after warm-up steps:

- train: forward (under the format's autocast) + cross-entropy + backward + Adam step
  on one batch, train mode;
- infer: forward under ``torch.inference_mode``, eval mode, same autocast;

each repeated until ``--seconds`` have passed (at least two steps). Formats:

- ``float32``: contiguous NCHW, no autocast (ropbench's default);
- ``float32+cl``: channels-last memory (every 4-D weight and the input);
- ``bfloat16`` / ``bfloat16+cl``: the same under bfloat16 autocast (``precision =
  "bfloat16"`` in a suite);
- ``compile+float32+cl`` / ``compile+bfloat16+cl``: ``torch.compile`` (inductor) of the
  model; its compile time is reported separately and not in the rate.

The machine may be shared: every row carries the 1-minute load average before and after
it, and the CPU seconds per image (``time.process_time``, all threads of this process),
which moves less with the load than the wall rate does. Run::

    .venv/bin/python benchmarks/bench_architectures.py                        # the suites' cases
    .venv/bin/python benchmarks/bench_architectures.py --cases seed-cnn@244/4 --formats float32 bfloat16+cl
    .venv/bin/python benchmarks/bench_architectures.py --json out.json         # also write JSON

A case is ``name@size/batch``; ``name`` may carry parameters as ``name{key=value,...}``
(e.g. ``vit-convstem-tiny{patch_size=16}@128/32``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import torch
import torch.nn.functional as F

from ropbench.registry import get_registry
from ropbench.training import build_seeded
from ropbench.training.precision import autocast

FORMATS = ("float32", "float32+cl", "bfloat16", "bfloat16+cl", "compile+float32+cl", "compile+bfloat16+cl")

# The shipped suites' (architecture, image size, batch size): quick (64 px, batch 16),
# faithful (128 px, batch 32), paper (244 px, batch 4), smoke's plain ViT, and the
# study's ViT-B/16 backbone at a reduced size (at 384 px it runs at under 1 image/s here).
DEFAULT_CASES = (
    "seed-cnn@64/16", "seed-cnn@128/32", "seed-cnn@244/4",
    "gap-cnn@64/16", "gap-cnn@128/32",
    "vit-convstem-tiny@64/16", "vit-convstem-tiny{patch_size=16}@128/32", "vit-convstem-tiny{patch_size=16}@240/4",
    "vit_tiny_patch16@64/16",
    "seed-vit@128/4",
)


@dataclass(frozen=True)
class Case:
    architecture: str
    image_size: int
    batch_size: int
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        extra = "{" + ",".join(f"{k}={v}" for k, v in self.params.items()) + "}" if self.params else ""
        return f"{self.architecture}{extra}"


@dataclass
class Measurement:
    case: str
    image_size: int
    batch_size: int
    format: str
    train_images_per_s: float
    train_cpu_ms_per_image: float
    infer_images_per_s: float
    infer_cpu_ms_per_image: float
    compile_seconds: float
    load_before: float
    load_after: float


_CASE = re.compile(r"^(?P<name>[^{@]+)(\{(?P<params>[^}]*)\})?@(?P<size>\d+)/(?P<batch>\d+)$")


def parse_case(text: str) -> Case:
    """``name{k=v,...}@size/batch`` -> :class:`Case` (values parsed as int, float or str)."""
    match = _CASE.match(text)
    if not match:
        raise argparse.ArgumentTypeError(f"case {text!r} is not name[{{k=v,...}}]@size/batch")
    params: dict[str, Any] = {}
    for item in filter(None, (match["params"] or "").split(",")):
        key, _, value = item.partition("=")
        params[key.strip()] = json.loads(value) if re.fullmatch(r"[-+0-9.eE]+|true|false", value) else value
    return Case(match["name"], int(match["size"]), int(match["batch"]), params)


def _rate(step: Callable[[], None], batch_size: int, seconds: float) -> tuple[float, float]:
    """(images per wall second, CPU milliseconds per image) of ``step`` after two warm-ups."""
    step()
    step()  # warm-up: allocator, oneDNN primitive caches
    steps, wall, cpu = 0, time.perf_counter(), time.process_time()
    while steps < 2 or time.perf_counter() - wall < seconds:
        step()
        steps += 1
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return steps * batch_size / wall, 1000 * cpu / (steps * batch_size)


def matmul_gflops(seconds: float = 1.0) -> float:
    """Achieved float32 GFLOP/s of a 1024^2 matmul now: tells a reader how loaded the CPU was."""
    a, b = torch.rand(1024, 1024), torch.rand(1024, 1024)
    images_per_s, _ = _rate(lambda: a @ b, 1, seconds)
    return images_per_s * 2 * 1024**3 / 1e9


def measure(case: Case, fmt: str, seconds: float) -> Measurement:
    """Train and inference rates of ``case`` in format ``fmt`` (one of :data:`FORMATS`)."""
    spec = get_registry().architectures.get(case.architecture)
    model = build_seeded(spec, 2, case.image_size, {**spec.params, **case.params}, seed=0)
    memory_format = torch.channels_last if fmt.endswith("+cl") else torch.contiguous_format
    precision = "bfloat16" if "bfloat16" in fmt else "float32"
    model.to(memory_format=memory_format)
    device = torch.device("cpu")
    generator = torch.Generator().manual_seed(0)
    images = (torch.rand(case.batch_size, 3, case.image_size, case.image_size, generator=generator) * 2 - 1)
    images = images.contiguous(memory_format=memory_format)
    labels = torch.arange(case.batch_size) % 2
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    forward: Callable[[torch.Tensor], torch.Tensor] = model
    compile_seconds = 0.0
    if fmt.startswith("compile"):
        torch._dynamo.reset()  # else earlier cases fill dynamo's cache and later ones silently run eager
        forward = torch.compile(model)

    def train_step() -> None:
        optimizer.zero_grad(set_to_none=True)
        with autocast(precision, device):
            logits = forward(images)
        F.cross_entropy(logits.float(), labels).backward()
        optimizer.step()

    def infer_step() -> None:
        with torch.inference_mode(), autocast(precision, device):
            forward(images)

    load_before = os.getloadavg()[0]
    model.train()
    if fmt.startswith("compile"):
        started = time.perf_counter()
        train_step()
        compile_seconds += time.perf_counter() - started
    train_rate, train_cpu = _rate(train_step, case.batch_size, seconds)
    model.eval()
    if fmt.startswith("compile"):
        started = time.perf_counter()
        infer_step()
        compile_seconds += time.perf_counter() - started
    infer_rate, infer_cpu = _rate(infer_step, case.batch_size, seconds)
    return Measurement(case.label, case.image_size, case.batch_size, fmt, round(train_rate, 1), round(train_cpu, 2),
                       round(infer_rate, 1), round(infer_cpu, 2), round(compile_seconds, 1), load_before,
                       os.getloadavg()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", type=parse_case, default=[parse_case(c) for c in DEFAULT_CASES])
    parser.add_argument("--formats", nargs="+", choices=FORMATS, default=list(FORMATS))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=3.0, help="minimum timed seconds per measurement")
    parser.add_argument("--json", help="also write the measurements to this JSON file")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    before = matmul_gflops()
    rows: list[Measurement] = []
    for case in args.cases:
        for fmt in args.formats:
            try:
                row = measure(case, fmt, args.seconds)
            except Exception as error:  # torch.compile may fail where a compiler is missing
                if not fmt.startswith("compile"):
                    raise
                print(f"{case.label} {fmt}: {type(error).__name__}: {str(error).splitlines()[0]}", flush=True)
                continue
            rows.append(row)
            print(f"{row.case:>36} {row.image_size:>4}px b{row.batch_size:<3} {fmt:>20}  "
                  f"train {row.train_images_per_s:7.1f}/s ({row.train_cpu_ms_per_image:6.1f} cpu-ms)  "
                  f"infer {row.infer_images_per_s:7.1f}/s  compile {row.compile_seconds:5.1f}s  "
                  f"load {row.load_before:.2f}->{row.load_after:.2f}", flush=True)
    after = matmul_gflops()
    print(f"\n{platform.processor() or platform.machine()}, torch {torch.__version__}, {args.threads} threads; "
          f"float32 matmul {before:.0f} GFLOP/s before, {after:.0f} after\n")
    print("| architecture | px | batch | format | train img/s | train CPU ms/img | inference img/s | compile s | load |")
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row.case} | {row.image_size} | {row.batch_size} | {row.format} | {row.train_images_per_s} | "
              f"{row.train_cpu_ms_per_image} | {row.infer_images_per_s} | {row.compile_seconds or ''} | "
              f"{row.load_before:.2f}-{row.load_after:.2f} |")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump({"threads": args.threads, "torch": torch.__version__,
                       "matmul_gflops": [round(before, 1), round(after, 1)],
                       "rows": [asdict(r) for r in rows]}, handle, indent=2)


if __name__ == "__main__":
    main()
