"""The explain stage: heatmaps for one trained model and explainer, then their scores.

Only ROP test images with a non-empty target mask are explained (for the ROP class);
healthy images and empty masks are excluded and counted. Heatmaps and each metric's
scores are separate cache entries, so adding a metric computes only that metric.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import torch

from ropbench.cache import Cache, content_key
from ropbench.imaging import to_model_input
from ropbench.registry import Registry
from ropbench.seeding import derive_seed
from ropbench.specs import ExplainContext, ExplainerSpec, RetinaBatch, ScoringInputs
from ropbench.stages.data import load_split
from ropbench.stages.models import build_model
from ropbench.training import resolve_device
from ropbench.stages.scoring import score
from ropbench.stages.train import load_trained_model

__all__ = ["run_explain_stage", "StageError", "explained_subset"]

ROP_CLASS = 1


class StageError(RuntimeError):
    """A stage failed in a way that names the plugin at fault."""


def explained_subset(test: RetinaBatch, target: str, limit: int) -> tuple[torch.Tensor, int]:
    """Indices of the images to explain and how many test images were excluded."""
    masks = test.masks if target == "region" else test.tortuous_vessels
    chosen = ((test.labels == ROP_CLASS) & masks.flatten(1).any(1)).nonzero().flatten()
    if limit:
        chosen = chosen[:limit]
    return chosen, len(test) - int(chosen.numel())


def _explain_batches(spec: ExplainerSpec, params: Mapping[str, Any], model: torch.nn.Module,
                     images: torch.Tensor, targets: torch.Tensor, vessels: torch.Tensor,
                     seed: int, batch_size: int, report: Callable[[str], None]) -> torch.Tensor:
    maps = []
    for start in range(0, images.shape[0], batch_size):
        stop = min(start + batch_size, images.shape[0])
        torch.manual_seed(seed)  # for libraries that draw from the global generator
        heatmaps = spec.explain(model, images[start:stop], targets[start:stop],
                                ExplainContext(seed=seed, vessels=vessels[start:stop]), **params)
        _check_heatmaps(spec.name, heatmaps, stop - start, images.shape[-2:], start)
        maps.append(heatmaps.detach().to("cpu", torch.float32))
        report(f"explained {stop}/{images.shape[0]}")
    return torch.cat(maps) if maps else torch.zeros((0, *images.shape[-2:]))


def _check_heatmaps(name: str, heatmaps: object, n: int, size: torch.Size, offset: int) -> None:
    if not isinstance(heatmaps, torch.Tensor):
        raise StageError(f"explainer {name!r} returned {type(heatmaps).__name__}, expected a tensor")
    if tuple(heatmaps.shape) != (n, *size):
        raise StageError(f"explainer {name!r} returned shape {tuple(heatmaps.shape)}, expected {(n, *size)}")
    bad = (~torch.isfinite(heatmaps)).flatten(1).any(1).nonzero().flatten()
    if bad.numel():
        images = [offset + int(i) for i in bad[:5]]
        raise StageError(
            f"explainer {name!r} returned non-finite (NaN or inf) heatmaps for {bad.numel()} of "
            f"{n} images (explained-image indices {images}{'...' if bad.numel() > 5 else ''})"
        )


def run_explain_stage(payload: Mapping[str, Any], cache: Cache, registry: Registry,
                      report: Callable[[str], None]) -> tuple[list[dict[str, Any]], dict[str, Any], int, int]:
    """Explain and score; returns rows, info, cache hits and misses."""
    model_payload = payload["model"]
    heat = payload["heatmaps"]
    seed = int(model_payload["seed"])
    device = resolve_device(payload["device"])
    test = load_split(cache, payload["data_key"], "test")
    chosen, n_excluded = explained_subset(test, heat["target"], int(heat["max_explained"]))
    explained = test.select(chosen)
    masks = explained.masks if heat["target"] == "region" else explained.tortuous_vessels

    model, record = load_trained_model(cache, registry, model_payload, heat["model_key"])
    model = model.to(device)
    images = to_model_input(explained.images).to(device)
    targets = torch.full((len(explained),), ROP_CLASS, dtype=torch.int64, device=device)
    vessels = explained.vessels.to(device)
    spec = registry.explainers.get(heat["explainer"]["name"])
    params = heat["explainer"]["params"]
    explain_seed = derive_seed(seed, "explain", spec.name)

    hits = misses = 0
    heatmap_key = payload["heatmap_key"]
    if cache.has("heatmaps", heatmap_key, ".pt"):
        heatmaps = cache.load_tensors("heatmaps", heatmap_key)["heatmaps"]
        hits += 1
    else:
        heatmaps = _explain_batches(spec, params, model, images, targets, vessels, explain_seed,
                                    int(payload["batch_size"]), report)
        cache.save_tensors("heatmaps", heatmap_key, {"heatmaps": heatmaps, "indices": chosen})
        misses += 1

    def explain_again(m: torch.nn.Module, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        context = ExplainContext(seed=explain_seed, vessels=vessels if x.shape[0] == vessels.shape[0] else None)
        return spec.explain(m, x, t, context, **params)

    inputs_common = dict(
        labels=explained.labels, probabilities=record["test_probabilities"][chosen],
        heatmaps=heatmaps.to(device), masks=masks.to(device), images=images, targets=targets,
        model=model, explain=explain_again, build_model=lambda: build_model(registry, model_payload, "sanity").to(device),
    )
    rows, errors = [], []
    resamples = int(payload["scoring"]["bootstrap_resamples"])
    for metric in payload["metrics"]:
        metric_spec = registry.metrics.get(metric["name"])
        score_key = content_key({"heatmaps": heatmap_key, "metric": metric, "resamples": resamples})
        if cache.has("scores", score_key, ".json"):
            rows.append(cache.load_json("scores", score_key))
            hits += 1
            continue
        try:
            inputs = ScoringInputs(seed=derive_seed(seed, "score", metric_spec.name), **inputs_common)
            row = score(metric_spec, metric["params"], inputs, resamples=resamples, n_excluded=n_excluded)
        except Exception as error:  # one metric's failure must not lose the others
            errors.append(f"metric {metric_spec.name!r} raised {type(error).__name__}: {error}")
            continue
        cache.save_json("scores", score_key, row)
        rows.append(row)
        misses += 1
    info = {"explained": int(chosen.numel()), "excluded": n_excluded, "heatmap_key": heatmap_key,
            "model_key": heat["model_key"], "data_key": payload["data_key"],
            "explained_indices": [int(i) for i in chosen], "target": heat["target"]}
    if errors:
        raise PartialStageError("; ".join(errors), rows, info)
    return rows, info, hits, misses


class PartialStageError(StageError):
    """Some metrics failed; ``rows`` holds the ones that were computed (they are kept)."""

    def __init__(self, message: str, rows: list[dict[str, Any]], info: dict[str, Any]) -> None:
        super().__init__(message)
        self.rows = rows
        self.info = info
