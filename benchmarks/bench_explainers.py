"""Explainer speed: ropbench vs pytorch-grad-cam, and images/s for every explainer.

Usage (from the repository root)::

    python benchmarks/bench_explainers.py compare     # GradCAM and ScoreCAM vs pytorch-grad-cam, 224 px
    python benchmarks/bench_explainers.py throughput  # images/s of every explainer, 224 and 128 px

Both use random-init registry models (resnet18 for CNN explainers, a ViT for the ViT
family), the same layer (``layer4``) and the same batch for both libraries, in one
process. Timings are the best of ``--repeats`` runs after one warm-up (ScoreCAM and
occlusion: ``--rounds`` timed runs, default one); in ``compare`` ropbench and the library
alternate run by run so that both see the same machine load. Agreement (Pearson after the library's min-max) is printed
beside each ratio so that a fast wrong answer cannot pass for a speed-up.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from typing import Callable

import torch

from ropbench.registry import get_registry
from ropbench.specs import ExplainContext
from ropbench.vessels import vessel_pixels

warnings.filterwarnings("ignore")

SLOW = {"scorecam", "occlusion"}


def smooth_images(count: int, size: int, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    coarse = torch.rand(count, 3, max(1, size // 16), max(1, size // 16), generator=generator)
    return torch.nn.functional.interpolate(coarse, size=(size, size), mode="bicubic").clamp(0, 1) * 2 - 1


def best_time(run: Callable[[], object], repeats: int, warmup: bool = True) -> tuple[float, object]:
    if warmup:
        run()
    best, result = float("inf"), None
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return best, result


def pearson(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.flatten(1).double(), b.flatten(1).double()
    a, b = a - a.mean(1, keepdim=True), b - b.mean(1, keepdim=True)
    return float(((a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1))).min())


def compare(args: argparse.Namespace) -> None:
    import pytorch_grad_cam
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    registry = get_registry()
    torch.manual_seed(0)
    model = registry.architectures.get("resnet18").build(2, args.size).eval()
    layer = model.get_submodule("layer4")
    print(
        f"torch threads: {torch.get_num_threads()}; load average {os.getloadavg()[0]:.1f}; "
        f"resnet18 random init, layer4, {args.size} px; pytorch-grad-cam at its defaults (ScoreCAM batch 16)"
    )
    cases = [("gradcam", "GradCAM", args.images, {}), ("scorecam", "ScoreCAM", args.scorecam_images, {})]
    if args.bf16:
        cases.append(("scorecam", "ScoreCAM", args.scorecam_images, {"precision": "bfloat16"}))
    cases = [case for case in cases if case[0] in args.explainers]
    for name, library_name, count, extra in cases:
        images = smooth_images(count, args.size)
        targets = torch.arange(count) % 2
        spec = registry.explainers.get(name)
        params = {**spec.params, **extra}
        slow = name in SLOW

        def ours_run():
            return spec.explain(model, images, targets, ExplainContext(seed=0), **params)

        def library_run():
            with getattr(pytorch_grad_cam, library_name)(model=model, target_layers=[layer]) as cam:
                return torch.from_numpy(cam(input_tensor=images, targets=[ClassifierOutputTarget(int(t)) for t in targets]))

        # Alternate the two so that both see the same machine load (shared CPUs drift).
        if not slow:
            ours_run(), library_run()  # warm-up
        ours_time = library_time = float("inf")
        for _ in range(args.rounds if slow else args.repeats):
            seconds, ours = best_time(ours_run, 1, warmup=False)
            ours_time = min(ours_time, seconds)
            seconds, library = best_time(library_run, 1, warmup=False)
            library_time = min(library_time, seconds)
        label = name + (f" {extra}" if extra else "")
        print(
            f"{label:32s} images={count:2d}  ropbench {count / ours_time:8.3g} img/s  "
            f"pytorch-grad-cam {count / library_time:8.3g} img/s  ratio {library_time / ours_time:5.2f}x  "
            f"min Pearson {pearson(ours, library):.4f}"
        )


def throughput(args: argparse.Namespace) -> None:
    registry = get_registry()
    fast_params: dict[str, dict] = {}
    print(f"torch threads: {torch.get_num_threads()}; load average {os.getloadavg()[0]:.1f}; {args.images} images")
    for size in args.sizes:
        models = {}
        for architecture in args.architectures:
            torch.manual_seed(0)
            models[architecture] = registry.architectures.get(architecture).build(2, size).eval()
        images = smooth_images(args.images, size)
        targets = torch.arange(args.images) % 2
        vessels = torch.rand(args.images, size, size)
        masks = torch.rand(args.images, size, size) < 0.1
        context = ExplainContext(seed=0, vessels=vessels, masks=masks, tortuous_vessels=masks & vessel_pixels(vessels))
        for architecture, model in models.items():
            # A plain inference pass: explainer costs read as multiples of it under any load.
            with torch.inference_mode():
                seconds, _ = best_time(lambda: model(images), args.repeats)
            print(f"{size:4d} px  {architecture:20s} {'(forward pass)':22s} {args.images / seconds:9.3g} img/s", flush=True)
        for name in args.explainers or list(registry.explainers):
            spec = registry.explainers.get(name)
            for architecture, model in models.items():
                if not spec.supports(model):
                    continue
                slow = name in SLOW
                params = {**spec.params, **fast_params.get(name, {})}
                seconds, _ = best_time(
                    lambda: spec.explain(model, images, targets, context, **params),
                    1 if slow else args.repeats, warmup=not slow,
                )
                print(f"{size:4d} px  {architecture:20s} {name:22s} {args.images / seconds:9.3g} img/s", flush=True)
                if spec.control and name != "vessel-map-pooled":
                    break  # controls ignore the model (but the pooled map's grid): one line is enough


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("compare", help="GradCAM and ScoreCAM vs pytorch-grad-cam")
    c.add_argument("--size", type=int, default=224)
    c.add_argument("--images", type=int, default=8)
    c.add_argument("--scorecam-images", type=int, default=2, help="ScoreCAM costs images x 512 forwards")
    c.add_argument("--repeats", type=int, default=3)
    c.add_argument("--rounds", type=int, default=1, help="alternating timed runs of the slow ScoreCAM case")
    c.add_argument("--bf16", action="store_true", help="also time ScoreCAM with bfloat16 masked forwards")
    c.add_argument("--explainers", nargs="+", default=["gradcam", "scorecam"], choices=["gradcam", "scorecam"])
    t = sub.add_parser("throughput", help="images/s of every registered explainer")
    t.add_argument("--sizes", type=int, nargs="+", default=[224, 128])
    t.add_argument("--images", type=int, default=4)
    t.add_argument("--repeats", type=int, default=2)
    t.add_argument("--architectures", nargs="+", default=["resnet18", "vit_small_patch16"])
    t.add_argument("--explainers", nargs="+", default=None, help="default: every registered explainer")
    args = parser.parse_args()
    {"compare": compare, "throughput": throughput}[args.command](args)


if __name__ == "__main__":
    main()
