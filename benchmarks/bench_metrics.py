"""Metric speed: the localization metrics on 1000 images at 224 px through one scoring
context, the per-image cost of the skeleton and interventional metrics, and the forward
counts and time per image of the faithfulness and sanity metrics.

Usage (from the repository root)::

    python benchmarks/bench_metrics.py localization [--count 1000 --size 224 --repeats 3]
    python benchmarks/bench_metrics.py per-image [--count 50 --size 224]
    python benchmarks/bench_metrics.py segments [--generator rw-classic]
    python benchmarks/bench_metrics.py contrast [--count 80]
    python benchmarks/bench_metrics.py faithfulness [--sizes 64 224 --count 8]
    pytest benchmarks/bench_metrics.py -m benchmark      # the < 2 s localization check

``localization`` builds ONE :class:`~ropbench.specs.ScoringContext` per pass, as the
harness does for one (model, explainer), and scores every registered localization
metric (value and chance level) on it one after another, except the ones that need a
model or skeletons per image (``intervention-*``, ``attention-tortuosity-contrast``:
see ``per-image``). Heatmaps are GradCAM-like (a ReLU'd 14 x 14 map upsampled
bilinearly, so there are large tied zero regions), masks are blobs covering ~10 % of
the image, vessels are ~40 anti-aliased random strokes per image (~15 % vessel pixels),
the tortuous vessels those inside the mask, and the vessel segments are computed before
the clock starts (the data stage makes them). The figure is the best of ``--repeats``
passes, each on a new context (nothing shared survives between passes).

``per-image`` times ``attention-tortuosity-contrast`` and the interventional pair on
``--count`` images through one context: the latter through the registered ``seed-cnn``
(random init) with a stand-in ``straighten`` that blanks each of 6 stretches of the
tortuous vessels in turn (so 7 forwards per image, shared by the pair).

``segments`` times :func:`ropbench.vessels.vessel_segments` (a data-stage step) on a
generator's images at 64, 224 and 600 px, best of 3. ``contrast`` scores
``attention-tortuosity-contrast`` of control maps (uniform and smooth random maps, the
oracle, the vessel map) on the ROP images among ``--count`` ``rw-classic`` images at
224 px: the Monte-Carlo reference for a metric without a declared chance level.

``faithfulness`` runs each faithfulness and sanity metric (value and chance) on
``--count`` random images through the registered ``seed-cnn`` (random init) with the
registered ``gradcam`` as the explainer, and counts images forwarded through the model.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ropbench.registry import get_registry
from ropbench.imaging import to_model_input
from ropbench.specs import ExplainContext, ScoringContext, SharedPasses, StretchInterventions
from ropbench.vessels import vessel_pixels, vessel_segments

warnings.filterwarnings("ignore")

PER_IMAGE_METRICS = ("attention-tortuosity-contrast", "intervention-rank", "intervention-hit")


def random_vessels(count: int, size: int, seed: int = 0, strokes: int = 40) -> torch.Tensor:
    """float32 [N, H, W] in [0, 1]: anti-aliased random strokes, ~2 px wide."""
    from skimage.draw import line_aa

    rng = np.random.default_rng(seed)
    planes = np.zeros((count, size, size), dtype=np.float32)
    for plane in planes:
        ends = rng.integers(0, size, (strokes, 4))
        for r0, c0, r1, c1 in ends:
            for shift in (0, 1):
                rows, cols, value = line_aa(r0, min(c0 + shift, size - 1), r1, min(c1 + shift, size - 1))
                np.maximum.at(plane, (rows, cols), value.astype(np.float32))
    return torch.from_numpy(planes)


def gradcam_like_context(count: int, size: int, seed: int = 0) -> ScoringContext:
    """A heatmap step's context with every plane the localization metrics read."""
    generator = torch.Generator().manual_seed(seed)
    coarse = torch.randn(count, 1, 14, 14, generator=generator).relu()
    heatmaps = F.interpolate(coarse, size=(size, size), mode="bilinear", align_corners=False)[:, 0]
    centre = torch.randn(count, 1, 6, 6, generator=generator)
    blobs = F.interpolate(centre, size=(size, size), mode="bilinear", align_corners=False)[:, 0]
    masks = blobs > 1.3  # ~10% of the pixels
    masks[:, size // 2, size // 2] = True
    vessels = random_vessels(count, size, seed)
    return ScoringContext(
        labels=torch.ones(count, dtype=torch.int64),
        probabilities=torch.full((count, 2), 0.5),
        heatmaps=heatmaps.contiguous(),
        masks=masks,
        region_masks=masks,
        tortuous_vessels=vessel_pixels(vessels) & masks,
        vessels=vessels,
        vessel_segments=vessel_segments(vessels),
    )


def _fresh(context: ScoringContext) -> ScoringContext:
    planes = {
        name: getattr(context, name).clone()
        for name in ("heatmaps", "masks", "region_masks", "tortuous_vessels", "vessels", "vessel_segments")
    }
    return dataclasses.replace(context, shared=SharedPasses(), **planes)


def time_localization(count: int, size: int, repeats: int) -> tuple[float, dict[str, float], float]:
    """(best total seconds, per-metric seconds of that pass, CPU seconds of that pass)
    for the localization metrics. CPU seconds (all threads) tell the work apart from
    waiting when other processes share the cores."""
    specs = [
        spec for spec in get_registry().metrics.specs.values()
        if spec.kind == "localization" and spec.name not in PER_IMAGE_METRICS
    ]
    base = gradcam_like_context(count, size)
    best_total, best_parts, best_cpu = float("inf"), {}, float("nan")
    for _ in range(repeats):
        context = _fresh(base)
        parts: dict[str, float] = {}
        cpu_start = time.process_time()
        start = time.perf_counter()
        for seed, spec in enumerate(specs):
            tick = time.perf_counter()
            spec.compute(context, seed, **spec.params)
            if spec.chance is not None:
                spec.chance(context, seed, **spec.params)
            parts[spec.name] = time.perf_counter() - tick
        total = time.perf_counter() - start
        cpu = time.process_time() - cpu_start
        if total < best_total:
            best_total, best_parts, best_cpu = total, parts, cpu
    return best_total, best_parts, best_cpu


def _stand_in_straighten(images: torch.Tensor, tortuous: torch.Tensor, stretches: int):
    def straighten(row: int) -> StretchInterventions | None:
        pixels = tortuous[row].flatten().nonzero().flatten()
        if pixels.numel() < stretches:
            return None
        masks = torch.zeros(stretches, *tortuous.shape[1:], dtype=torch.bool)
        for index, part in enumerate(torch.tensor_split(pixels, stretches)):
            masks[index].view(-1)[part] = True
        changed = images[row].expand(stretches, -1, -1, -1).clone()
        changed[masks[:, None].expand_as(changed)] = 0
        return StretchInterventions(images=changed, changed=masks.clone(), stretches=masks)

    return straighten


def time_per_image(count: int, size: int) -> dict[str, float]:
    """Milliseconds per image of the metrics left out of ``localization``."""
    registry = get_registry()
    context = gradcam_like_context(count, size)
    torch.manual_seed(0)
    model = registry.architectures.get("seed-cnn").build(2, size).eval()
    generator = torch.Generator().manual_seed(1)
    pixels = torch.randint(0, 256, (count, 3, size, size), generator=generator, dtype=torch.uint8)
    context = dataclasses.replace(
        context, model=model, images=to_model_input(pixels), targets=torch.ones(count, dtype=torch.int64),
        straighten=_stand_in_straighten(pixels, context.tortuous_vessels, 6),
    )
    result = {}
    fresh = _fresh(context)  # one context, as the harness: the interventional pair shares a pass
    for name in PER_IMAGE_METRICS:
        spec = registry.metrics.get(name)
        start = time.perf_counter()
        spec.compute(fresh, 0, **spec.params)
        if spec.chance is not None:
            spec.chance(fresh, 0, **spec.params)
        result[name] = (time.perf_counter() - start) / count * 1000
    return result


def time_segments(generator: str, sizes: tuple[int, ...] = (64, 224, 600)) -> list[tuple]:
    """(size, ms per image, vessel pixel share, segments per image) of vessel_segments."""
    spec = get_registry().generators.get(generator)
    rows = []
    for size, count in zip(sizes, (40, 20, 10)):
        vessels = spec.generate(count, size, 0, **spec.params).vessels
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            segments = vessel_segments(vessels)
            best = min(best, time.perf_counter() - start)
        share = float(vessel_pixels(vessels).float().mean())
        per_image = float(segments.flatten(1).max(1).values.float().mean())
        rows.append((size, best / count * 1000, share, per_image))
    return rows


def contrast_of_controls(count: int, size: int = 224) -> list[tuple]:
    """(control, images scored, image-draws, mean) of attention-tortuosity-contrast."""
    registry = get_registry()
    spec = registry.generators.get("rw-classic")
    batch = spec.generate(count, size, 0, **spec.params)
    rop = batch.select(batch.labels == 1)
    n = len(rop)
    metric = registry.metrics.get("attention-tortuosity-contrast")
    controls = {
        "uniform random": lambda g: torch.rand(n, size, size, generator=g),
        "smooth random (7x7, bilinear)": lambda g: F.interpolate(
            torch.rand(n, 1, 7, 7, generator=g), size=(size, size), mode="bilinear", align_corners=False
        )[:, 0],
        "oracle": lambda g: rop.masks.float() + rop.tortuous_vessels.float(),
        "vessel map": lambda g: vessel_pixels(rop.vessels).float(),
    }
    rows = []
    for name, make in controls.items():
        draws = 5 if "random" in name else 1
        values = []
        for draw in range(draws):
            context = ScoringContext(
                labels=rop.labels, probabilities=torch.full((n, 2), 0.5),
                heatmaps=make(torch.Generator().manual_seed(draw)), vessels=rop.vessels,
            )
            values.append(metric.compute(context, draw, **metric.params))
        values = torch.cat(values)
        scored = values[~values.isnan()]
        rows.append((name, int(scored.numel()), int(values.numel()), float(scored.mean()) if scored.numel() else float("nan")))
    return rows


class ForwardCounter:
    """Counts images forwarded through a model (forward pre-hook)."""

    def __init__(self, model: torch.nn.Module) -> None:
        self.images = 0
        self.handle = model.register_forward_pre_hook(self._count)

    def _count(self, module, args) -> None:
        self.images += int(args[0].shape[0])


def faithfulness_context(count: int, size: int, explained: list[int]) -> ScoringContext:
    registry = get_registry()
    torch.manual_seed(0)
    architecture = registry.architectures.get("seed-cnn")
    model = architecture.build(2, size).eval()
    explainer = registry.explainers.get("gradcam")

    def explain(model, images, targets):
        explained[0] += int(images.shape[0])
        return explainer.explain(model, images, targets, ExplainContext(seed=0), **explainer.params)

    generator = torch.Generator().manual_seed(1)
    images = torch.rand(count, 3, size, size, generator=generator) * 2 - 1
    targets = torch.ones(count, dtype=torch.int64)
    masks = gradcam_like_context(count, size).masks
    return ScoringContext(
        labels=targets,
        probabilities=torch.full((count, 2), 0.5),
        heatmaps=explain(model, images, targets),
        masks=masks,
        images=images,
        targets=targets,
        model=model,
        reexplain=lambda model, images, targets, rows: explain(model, images, targets),
        build_fresh_model=lambda: architecture.build(2, size),
    )


def run_faithfulness(sizes: list[int], count: int) -> list[tuple]:
    """(size, metric, value/chance, forwards per image, explained per image, ms per image).

    One context per size, as the harness builds one per (model, explainer): metrics that
    share a pass show its cost once. Forwards are counted on the trained model
    (explainer forwards included); the sanity cascade runs copies of it, so its cost
    shows as explained images instead.
    """
    rows = []
    for size in sizes:
        explained = [0]
        context = faithfulness_context(count, size, explained)
        counter = ForwardCounter(context.model)
        for seed, spec in enumerate(get_registry().metrics.specs.values()):
            if spec.kind not in ("faithfulness", "sanity"):
                continue
            for part, function in (("value", spec.compute), ("chance", spec.chance)):
                if function is None:
                    continue
                before, explained_before = counter.images, explained[0]
                start = time.perf_counter()
                function(context, seed, **spec.params)
                seconds = time.perf_counter() - start
                forwards = (counter.images - before) / count
                explains = (explained[0] - explained_before) / count
                rows.append((size, spec.name, part, forwards, explains, seconds / count * 1000))
        counter.handle.remove()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    local = sub.add_parser("localization")
    local.add_argument("--count", type=int, default=1000)
    local.add_argument("--size", type=int, default=224)
    local.add_argument("--repeats", type=int, default=3)
    per_image = sub.add_parser("per-image")
    per_image.add_argument("--count", type=int, default=50)
    per_image.add_argument("--size", type=int, default=224)
    segments = sub.add_parser("segments")
    segments.add_argument("--generator", default="rw-classic")
    contrast = sub.add_parser("contrast")
    contrast.add_argument("--count", type=int, default=80)
    faithful = sub.add_parser("faithfulness")
    faithful.add_argument("--sizes", type=int, nargs="+", default=[64, 224])
    faithful.add_argument("--count", type=int, default=8)
    args = parser.parse_args()
    print(f"torch threads: {torch.get_num_threads()}")
    if args.command == "localization":
        total, parts, cpu = time_localization(args.count, args.size, args.repeats)
        for name, seconds in parts.items():
            print(f"{name:32s} {seconds * 1000:8.1f} ms")
        print(
            f"{len(parts)} localization metrics and their chance levels, {args.count} images at "
            f"{args.size} px, one context: {total:.2f} s wall, {cpu:.2f} s CPU (best of {args.repeats}; "
            f"load average {os.getloadavg()[0]:.1f})"
        )
    elif args.command == "per-image":
        print("(one context: a metric sharing a pass with an earlier one shows only its own work)")
        for name, milliseconds in time_per_image(args.count, args.size).items():
            print(f"{name:32s} {milliseconds:8.1f} ms per image (value and chance, {args.size} px)")
    elif args.command == "segments":
        for size, milliseconds, share, per_image in time_segments(args.generator):
            print(f"{size:4d} px: {milliseconds:6.1f} ms per image; vessel pixels {share:.3f} of the image; "
                  f"{per_image:.0f} segments per image")
    elif args.command == "contrast":
        for name, scored, total, mean in contrast_of_controls(args.count):
            print(f"{name:30s} scored {scored:4d} of {total:4d} image-draws, mean {mean:.3f}")
    else:
        print("(metrics sharing a pass show 0 after the first; load average "
              f"{os.getloadavg()[0]:.1f})")
        print(f"{'size':>4}  {'metric':28s} {'part':6s} {'forwards/img':>12s} {'explains/img':>12s} {'ms/img':>8s}")
        for size, name, part, forwards, explains, milliseconds in run_faithfulness(args.sizes, args.count):
            print(f"{size:>4}  {name:28s} {part:6s} {forwards:>12.1f} {explains:>12.1f} {milliseconds:>8.1f}")


@pytest.mark.benchmark
def test_all_localization_metrics_on_1000_images_at_224_px_take_under_2_seconds() -> None:
    # CPU seconds of all threads: what the pass costs, whoever else shares the cores
    # (uncontended wall time is at most this).
    total, _, cpu = time_localization(1000, 224, repeats=2)
    assert cpu < 2.0, f"{cpu:.2f} s CPU ({total:.2f} s wall, load average {os.getloadavg()[0]:.1f})"


if __name__ == "__main__":
    main()
