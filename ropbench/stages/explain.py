"""The explain stage: one explainer's heatmaps of one trained model.

Only ROP test images with a non-empty localization target are explained (for the ROP
class); healthy images and empty masks are excluded and counted. The heatmaps and the
explained rows are stored as ``heatmaps/<key>.pt``; the score stage reads them.
:func:`explain_in_batches` is also what a metric's re-explanation runs through, so the
batching, seeding and contract checks are the same for both.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import torch

from ropbench.cache import Cache, CorruptCacheEntryError
from ropbench.imaging import to_model_input
from ropbench.registry import Registry
from ropbench.seeding import derive_seed
from ropbench.specs import ExplainContext, ExplainerSpec, RetinaBatch
from ropbench.stages.data import load_split
from ropbench.stages.errors import StageError
from ropbench.stages.train import load_trained_model
from ropbench.tasks import ExplainTask

__all__ = ["ROP_CLASS", "ExplainSide", "explained_rows", "explain_in_batches", "run_explain_stage",
           "load_heatmaps", "outputs_present", "outputs", "explainer_seed"]

ROP_CLASS = 1
HEATMAPS = "heatmaps"


def target_masks(batch: RetinaBatch, target: str) -> torch.Tensor:
    """The localization target of ``batch``: the tortuous region or the tortuous vessels."""
    return batch.masks if target == "region" else batch.tortuous_vessels


def explained_rows(test: RetinaBatch, target: str, limit: int) -> tuple[torch.Tensor, int]:
    """Indices of the test images to explain and how many test images were excluded."""
    masks = target_masks(test, target)
    chosen = ((test.labels == ROP_CLASS) & masks.flatten(1).any(1)).nonzero().flatten()
    if limit:
        chosen = chosen[:limit]
    return chosen, len(test) - int(chosen.numel())


class ExplainSide:
    """The explained images' planes an explainer may be handed (row for row)."""

    def __init__(self, vessels: torch.Tensor, masks: torch.Tensor, tortuous_vessels: torch.Tensor) -> None:
        self.vessels = vessels
        self.masks = masks
        self.tortuous_vessels = tortuous_vessels

    def context(self, seed: int, rows: torch.Tensor) -> ExplainContext:
        return ExplainContext(seed=seed, vessels=self.vessels[rows], masks=self.masks[rows],
                              tortuous_vessels=self.tortuous_vessels[rows])


def explainer_seed(task_seed: int, explainer: str) -> int:
    return derive_seed(task_seed, "explain", explainer)


def explain_in_batches(spec: ExplainerSpec, params: Mapping[str, Any], model: torch.nn.Module,
                       images: torch.Tensor, targets: torch.Tensor, side: ExplainSide, rows: torch.Tensor,
                       seed: int, batch_size: int, log: Callable[[str], None] = lambda _: None) -> torch.Tensor:
    """Heatmaps float32 [N, H, W] on the CPU, ``batch_size`` images per call.

    ``rows`` says which explained image each of ``images`` is (or derives from), so the
    explainer gets that image's side data. The global RNG is seeded before every call for
    libraries that draw from it; the contract is checked on every batch.
    """
    maps = []
    for start in range(0, images.shape[0], batch_size):
        stop = min(start + batch_size, images.shape[0])
        torch.manual_seed(seed)
        heatmaps = spec.explain(model, images[start:stop], targets[start:stop],
                                side.context(seed, rows[start:stop]), **params)
        _check_heatmaps(spec.name, heatmaps, stop - start, images, start)
        maps.append(heatmaps.detach().to("cpu", torch.float32))
        log(f"explained {stop}/{images.shape[0]}")
    return torch.cat(maps) if maps else torch.zeros((0, *images.shape[-2:]))


def _check_heatmaps(name: str, heatmaps: object, n: int, images: torch.Tensor, offset: int) -> None:
    size = tuple(images.shape[-2:])
    if not isinstance(heatmaps, torch.Tensor):
        raise StageError(f"explainer {name!r} returned {type(heatmaps).__name__}, expected a tensor")
    if tuple(heatmaps.shape) != (n, *size):
        raise StageError(f"explainer {name!r} returned shape {tuple(heatmaps.shape)}, expected {(n, *size)}")
    if heatmaps.dtype != torch.float32:
        raise StageError(f"explainer {name!r} returned {heatmaps.dtype} heatmaps, expected torch.float32")
    if heatmaps.device != images.device:
        raise StageError(f"explainer {name!r} returned heatmaps on {heatmaps.device}; the images are on "
                         f"{images.device} (return them on the model's device)")
    bad = (~torch.isfinite(heatmaps)).flatten(1).any(1).nonzero().flatten()
    if bad.numel():
        rows = [offset + int(i) for i in bad[:5]]
        raise StageError(
            f"explainer {name!r} returned non-finite (NaN or inf) heatmaps for {bad.numel()} of "
            f"{n} images (explained-image indices {rows}{'...' if bad.numel() > 5 else ''})"
        )


def _model_state(model: torch.nn.Module) -> tuple[dict[str, torch.Tensor], list[bool]]:
    return ({k: v.detach().clone() for k, v in model.state_dict().items()}, [m.training for m in model.modules()])


def _check_untouched(name: str, before: tuple, after: tuple) -> None:
    """An explainer must leave the model as it found it: the metrics score that model."""
    (state, modes), (new_state, new_modes) = before, after
    changed = [k for k in state if k not in new_state or not torch.equal(state[k], new_state[k])]
    if changed or modes != new_modes:
        what = f"parameter or buffer {changed[0]!r}" if changed else "train/eval modes"
        raise StageError(f"explainer {name!r} changed the model's {what}; an explainer must leave the model "
                         "exactly as it found it (use ropbench.explaining.explaining)")


def _explain(task: ExplainTask, cache: Cache, registry: Registry, log: Callable[[str], None]) -> dict[str, Any]:
    from ropbench.training.predict import resolve_device

    test = load_split(cache, task.data, "test", registry, log)
    rows, n_excluded = explained_rows(test, task.target, task.max_explained)
    explained = test.select(rows)
    device = resolve_device(task.device)
    model = load_trained_model(cache, task.model, registry, log).to(device)
    images = to_model_input(explained.images).to(device)
    targets = torch.full((len(explained),), ROP_CLASS, dtype=torch.int64, device=device)
    side = ExplainSide(explained.vessels.to(device), target_masks(explained, task.target).to(device),
                       explained.tortuous_vessels.to(device))
    spec = registry.explainers.get(task.explainer.name)
    before = _model_state(model)
    heatmaps = explain_in_batches(spec, task.explainer.call_params(), model, images, targets, side,
                                  torch.arange(len(explained)), explainer_seed(task.seed, spec.name),
                                  task.batch_size, log)
    _check_untouched(spec.name, before, _model_state(model))
    cache.save_tensors(HEATMAPS, task.key, {"heatmaps": heatmaps, "rows": rows, "excluded": n_excluded})
    return {"explained": int(rows.numel()), "excluded": n_excluded}


def outputs(task: ExplainTask) -> list[tuple[str, str, str]]:
    return [(HEATMAPS, task.key, ".pt")]


def outputs_present(task: ExplainTask, cache: Cache) -> bool:
    return cache.has(HEATMAPS, task.key, ".pt")


def run_explain_stage(task: ExplainTask, cache: Cache, registry: Registry, log: Callable[[str], None],
                      refresh: bool = False) -> tuple[dict[str, Any], bool]:
    """The stage's info, and whether the heatmaps had to be computed (always with ``refresh``)."""
    if not refresh and outputs_present(task, cache):
        try:
            record = cache.load_tensors(HEATMAPS, task.key)
            return {"explained": int(record["rows"].numel()), "excluded": int(record["excluded"])}, False
        except CorruptCacheEntryError as error:
            log(f"heatmaps of {task.label}: {error.reason}; explaining again")
    return _explain(task, cache, registry, log), True


def load_heatmaps(cache: Cache, task: ExplainTask, registry: Registry,
                  log: Callable[[str], None] = lambda _: None) -> Mapping[str, Any]:
    """``{"heatmaps": float32 [N, H, W], "rows": test-split indices, "excluded": int}``
    (explained again if the cache entry is missing or damaged)."""
    try:
        return cache.load_tensors(HEATMAPS, task.key)
    except CorruptCacheEntryError as error:
        log(f"heatmaps of {task.label}: {error.reason}; explaining again")
        _explain(task, cache, registry, log)
        return cache.load_tensors(HEATMAPS, task.key)
