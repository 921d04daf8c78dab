"""Building the one :class:`ropbench.specs.ScoringContext` a score task's metrics share.

Everything is loaded once per score task: the test split (or its explained rows), the
predictions, the heatmaps, the model; re-explanation, a fresh model and interventions
are offered as functions the metrics call when they need them.
"""

from __future__ import annotations

from typing import Callable

import torch

from ropbench.cache import Cache, CorruptCacheEntryError
from ropbench.imaging import to_model_input
from ropbench.registry import Registry
from ropbench.seeding import derive_seed
from ropbench.specs import ScoringContext, StretchInterventions
from ropbench.stages.data import load_test_split
from ropbench.stages.explain import (
    ROP_CLASS,
    ExplainSide,
    explain_in_batches,
    explainer_seed,
    load_heatmaps,
    target_masks,
)
from ropbench.stages.train import load_predictions, load_trained_model
from ropbench.tasks import DataTask, ScoreTask

__all__ = ["ScoredImages", "scored_images", "scoring_context"]


class ScoredImages:
    """Which test images a context holds and how many test images it leaves out."""

    def __init__(self, rows: torch.Tensor, excluded: int, sources: tuple[str, ...]) -> None:
        self.rows = rows
        self.excluded = excluded
        self.sources = sources


def _sources(metadata: tuple, rows: torch.Tensor) -> tuple[str, ...]:
    """Each image's recorded ``source`` (a loader's file name), "" where it has none."""
    return tuple(str((metadata[row] if row < len(metadata) else {}).get("source") or "") for row in rows.tolist())


def _image_ids(data: DataTask, images: ScoredImages) -> tuple[str, ...]:
    """Every image named: its source, else ``<generator>/test/<index>``."""
    return tuple(source or f"{data.generator.name}/test/{row}"
                 for source, row in zip(images.sources, images.rows.tolist()))


INTERVENTIONS = "interventions"


def _straighten_for(data: DataTask, registry: Registry, rows: torch.Tensor, cache: Cache
                    ) -> Callable[[int], StretchInterventions | None] | None:
    """Interventions on explained image ``row`` through the generator, where it can.

    They depend on the data only, so each test image's are cached under the data task's
    key (``interventions/<data key>.<index>.pt``) and shared by every model and explainer.
    """
    spec = registry.generators.get(data.generator.name)
    if spec.straighten is None or data.source != "synthetic":
        return None
    split_seed = derive_seed(data.seed, "data", "test")  # as the data stage draws the test split

    def straighten(row: int) -> StretchInterventions | None:
        index = int(rows[row])
        suffix = f".{index}.pt"
        try:
            stored = cache.load_tensors(INTERVENTIONS, data.key, suffix=suffix)
        except CorruptCacheEntryError:
            result = spec.straighten(index, data.image_size, split_seed, **data.generator.call_params())
            stored = {"none": result is None} if result is None else {
                "none": False, "images": result.images, "changed": result.changed, "stretches": result.stretches}
            cache.save_tensors(INTERVENTIONS, data.key, stored, suffix=suffix)
        if stored["none"]:
            return None
        return StretchInterventions(images=stored["images"], changed=stored["changed"], stretches=stored["stretches"])

    return straighten


def scored_images(task: ScoreTask, cache: Cache, registry: Registry,
                  log: Callable[[str], None] = lambda _: None) -> ScoredImages:
    """The test images ``task`` scores, without loading a model."""
    test = load_test_split(cache, task.data, registry, log)
    if task.heatmaps is None:
        rows, excluded = torch.arange(len(test.batch)), 0
    else:
        record = load_heatmaps(cache, task.heatmaps, registry, log)
        rows, excluded = record["rows"], int(record["excluded"])
    return ScoredImages(rows, excluded, _sources(test.batch.metadata, rows))


def scoring_context(task: ScoreTask, cache: Cache, registry: Registry,
                    log: Callable[[str], None] = lambda _: None) -> tuple[ScoringContext, ScoredImages]:
    """The context every metric of ``task`` scores against, and what it holds."""
    from ropbench.training.predict import resolve_device

    test = load_test_split(cache, task.data, registry, log)
    probabilities = load_predictions(cache, task.model, registry, log)
    if task.heatmaps is None:
        everything = torch.arange(len(test.batch))
        images = ScoredImages(everything, 0, _sources(test.batch.metadata, everything))
        return ScoringContext(labels=test.batch.labels, probabilities=probabilities,
                              image_ids=_image_ids(task.data, images)), images

    explain_task = task.heatmaps
    record = load_heatmaps(cache, explain_task, registry, log)
    rows = record["rows"]
    explained = test.batch.select(rows)
    device = resolve_device(task.device)
    model = load_trained_model(cache, task.model, registry, log).to(device)
    inputs = to_model_input(explained.images).to(device)
    targets = torch.full((len(explained),), ROP_CLASS, dtype=torch.int64, device=device)
    masks = target_masks(explained, explain_task.target)
    side = ExplainSide(explained.vessels.to(device), masks.to(device), explained.tortuous_vessels.to(device))
    spec = registry.explainers.get(explain_task.explainer.name)
    seed = explainer_seed(task.seed, spec.name)

    def reexplain(other_model: torch.nn.Module, other_images: torch.Tensor, other_targets: torch.Tensor,
                  of_rows: torch.Tensor) -> torch.Tensor:
        return explain_in_batches(spec, explain_task.explainer.call_params(), other_model, other_images,
                                  other_targets, side, of_rows.to(torch.int64).cpu(), seed,
                                  explain_task.batch_size)

    architecture = registry.architectures.get(task.model.architecture.name)

    def build_fresh_model() -> torch.nn.Module:
        # Unseeded on purpose: the sanity metrics draw the fresh weights from the global
        # generator under their own randomization_seed.
        return architecture.build(task.model.num_classes, task.model.image_size,
                                  **task.model.architecture.call_params()).to(device)

    images = ScoredImages(rows, int(record["excluded"]), _sources(test.batch.metadata, rows))
    context = ScoringContext(
        labels=explained.labels, probabilities=probabilities[rows],
        heatmaps=record["heatmaps"].to(device), masks=masks.to(device),
        region_masks=explained.masks.to(device), tortuous_vessels=explained.tortuous_vessels.to(device),
        vessels=explained.vessels.to(device), vessel_segments=test.vessel_segments[rows].to(device),
        images=inputs, targets=targets, model=model, reexplain=reexplain,
        build_fresh_model=build_fresh_model, straighten=_straighten_for(task.data, registry, rows, cache),
        image_ids=_image_ids(task.data, images),
    )
    return context, images
