"""Does regional guidance move gap-cnn's CAM into the tortuous region?

Trains gap-cnn on a generator (default rw-classic) with guidance weight 0 and with the
given weights, on the same seeds and data, and reports for each run the test accuracy
and the CAM relevance mass on ROP test images: the positive CAM inside the tortuous
region divided by all positive CAM, with the CAM upsampled bilinearly to the input
resolution. Run::

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/guidance_experiment.py --seeds 0 1 --weights 0 0.1 0.3

The CAM is computed here (classifier weights times the target layer's activations, as
the training probe reads it) so the experiment depends on no explainer plugin.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

from ropbench.imaging import to_model_input
from ropbench.registry import get_registry
from ropbench.seeding import derive_seed
from ropbench.training import TrainingConfig, build_seeded, predict_probabilities, train_model
from ropbench.training.guidance import guidance_probe


def cam_relevance_mass(model: torch.nn.Module, images: torch.Tensor, masks: torch.Tensor, batch_size: int = 64) -> torch.Tensor:
    """Per image: positive CAM (ROP class, input resolution) inside ``masks`` / all positive CAM.

    NaN for an image whose CAM has no positive value.
    """
    model.eval()
    masses = []
    with torch.inference_mode():
        for start in range(0, len(images), batch_size):
            inputs = to_model_input(images[start:start + batch_size])
            targets = torch.ones(len(inputs), dtype=torch.long)
            with guidance_probe(model) as read:
                model(inputs)
                cam = read(targets)  # relu(CAM) at feature resolution
            cam = F.interpolate(cam[:, None], size=inputs.shape[-2:], mode="bilinear", align_corners=False)[:, 0]
            region = masks[start:start + batch_size].float()
            total = cam.sum(dim=(1, 2))
            # No positive CAM at all: the mass is undefined, not zero.
            masses.append(torch.where(total > 0, (cam * region).sum(dim=(1, 2)) / total.clamp_min(1e-12),
                                      torch.full_like(total, float("nan"))))
    return torch.cat(masses)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generator", default="rw-classic")
    parser.add_argument("--architecture", default="gap-cnn")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--weights", nargs="+", type=float, default=[0.0, 0.1, 0.3], help="guidance weights (lambda)")
    parser.add_argument("--image-size", type=int, default=128)
    parser.add_argument("--train", type=int, default=1000)
    parser.add_argument("--val", type=int, default=150)
    parser.add_argument("--test", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--patience", type=int, default=0,
                        help="early-stopping patience (0 = off: from scratch the loss is flat for the first epochs)")
    parser.add_argument("--plateau-patience", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    registry = get_registry()
    generator = registry.generators.get(args.generator)
    spec = registry.architectures.get(args.architecture)
    results: dict[float, list[tuple[float, float]]] = {w: [] for w in args.weights}
    for seed in args.seeds:
        splits = {
            split: generator.generate(count, args.image_size, derive_seed(seed, "data", split), **generator.params)
            for split, count in (("train", args.train), ("val", args.val), ("test", args.test))
        }
        rop = splits["test"].select(splits["test"].labels == 1)
        for weight in args.weights:
            started = time.perf_counter()
            config = TrainingConfig(epochs=args.epochs, batch_size=args.batch_size, guidance_weight=weight,
                                    early_stopping_patience=args.patience, plateau_patience=args.plateau_patience,
                                    channels_last=True, device="cpu")
            model = build_seeded(spec, 2, args.image_size, spec.params, seed)
            result = train_model(model, splits["train"], splits["val"], config, derive_seed(seed, "train"))
            probabilities = predict_probabilities(result.model, splits["test"].images, batch_size=64, device="cpu")
            accuracy = float((probabilities.argmax(dim=1) == splits["test"].labels).float().mean())
            per_image = cam_relevance_mass(result.model, rop.images, rop.masks)
            defined = per_image[~per_image.isnan()]
            mass = float(defined.mean()) if len(defined) else float("nan")
            area = float(rop.masks.float().mean())
            results[weight].append((accuracy, mass))
            print(f"seed {seed} lambda {weight:g}: accuracy {accuracy:.3f}  CAM relevance mass {mass:.3f} "
                  f"(mask area {area:.3f} = chance; {len(defined)}/{len(rop)} maps with positive CAM)  best epoch {result.best_epoch}/{len(result.history)}  "
                  f"{time.perf_counter() - started:.0f}s", flush=True)

    print("\n| lambda | accuracy (mean) | CAM relevance mass (mean) | per seed (acc / mass) |")
    print("|---|---|---|---|")
    for weight, runs in results.items():
        per_seed = ", ".join(f"{a:.3f} / {m:.3f}" for a, m in runs)
        print(f"| {weight:g} | {statistics.mean(a for a, _ in runs):.3f} | "
              f"{statistics.mean(m for _, m in runs):.3f} | {per_seed} |")


if __name__ == "__main__":
    main()
