"""The "Original study format": ropbench's ``study-precision@p`` / ``study-recall@p``
beside the study's own Table 1, the uniform chance and the vessel-map control.

Which pairs are compared is decided by the explainer's plugin name: ``gradcam`` runs on
CNNs only and is compared with the study's CNN Grad-CAM; ``attention-rollout`` and
``attention-rollout-study`` run on ViTs only and are compared with its ViT rollout.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

import pandas as pd

from ropbench.registry import natural_key
from ropbench.report.boards import BoardData, format_mean_std
from ropbench.report.controls import vessel_prior_score

__all__ = ["StudyReference", "StudyTable", "STUDY_CNN_GRADCAM", "STUDY_VIT_ROLLOUT", "STUDY_REFERENCES",
           "STUDY_PRECISION", "STUDY_RECALL", "study_tables", "protocol_note", "STUDY_INTRO"]

STUDY_PRECISION = "study-precision@"
STUDY_RECALL = "study-recall@"


@dataclass(frozen=True)
class StudyReference:
    """One column of the study's Table 1: precision / recall in percent by percentile."""

    model: str
    method: str
    images: int  # test ROP images the study averaged over
    precision_recall: Mapping[int, tuple[float, float]]

    @property
    def name(self) -> str:
        return f"{self.model} {self.method}"


# The study's Table 1 (DESIGN.md, "The study this comes from"), mean over test ROP images.
STUDY_CNN_GRADCAM = StudyReference("CNN", "Grad-CAM", 50, {
    50: (57.34, 65.57), 75: (63.05, 61.23), 80: (64.44, 59.78), 90: (72.81, 47.66), 95: (81.50, 31.87)})
STUDY_VIT_ROLLOUT = StudyReference("ViT", "rollout", 5, {
    50: (18.29, 99.63), 75: (21.23, 86.06), 80: (22.78, 77.25), 90: (28.92, 53.24), 95: (34.79, 31.18)})
STUDY_REFERENCES = {"gradcam": STUDY_CNN_GRADCAM, "attention-rollout": STUDY_VIT_ROLLOUT,
                    "attention-rollout-study": STUDY_VIT_ROLLOUT}

STUDY_INTRO = (
    "The study's exact protocol (`study-precision@p` / `study-recall@p`): threshold the map at its p-th "
    "percentile, weight both the region and the ground truth by the vessel plane; percent. Study columns: "
    f"its Table 1, CNN Grad-CAM over {STUDY_CNN_GRADCAM.images} images and ViT rollout over "
    f"{STUDY_VIT_ROLLOUT.images}. Pairs are chosen by explainer: `gradcam` (any CNN) and `attention-rollout` "
    "or `attention-rollout-study` (any ViT). On this protocol a map that lights up every vessel scores the "
    "chance level, so the vessel-map column is the bar to clear."
)

HEADERS = ("p", "ropbench P / R (%)", "study P / R (%)", "uniform chance P / R (%)", "vessel-map P / R (%)")


@dataclass(frozen=True)
class StudyTable:
    """One (generator, architecture, explainer) beside its study column."""

    generator: str
    architecture: str
    explainer: str
    reference: StudyReference
    images_per_seed: float
    rows: tuple[tuple[str, ...], ...]

    @property
    def title(self) -> str:
        return (f"{self.generator} / {self.architecture} / {self.explainer} beside the study's "
                f"{self.reference.name} ({self.reference.images} images; ropbench {self.images_per_seed:.0f} "
                "per seed)")

    @property
    def headers(self) -> tuple[str, ...]:
        return HEADERS


def _percent_pair(precision: Any, recall: Any) -> str:
    def one(row: Any) -> str:
        return "n/a" if row is None else format_mean_std(100 * row["mean"], 100 * row["std"], digits=2)

    return f"{one(precision)} / {one(recall)}"


def _plain_pair(precision: float, recall: float) -> str:
    return " / ".join("n/a" if math.isnan(v) else f"{100 * v:.2f}" for v in (precision, recall))


def _study_table(data: BoardData, chosen: pd.DataFrame, generator: str, architecture: str, explainer: str,
                 reference: StudyReference) -> StudyTable:
    of_generator = data.of_generator(generator)
    by_metric = {str(r["metric"]): r for _, r in chosen.iterrows()}
    percentiles = sorted({m.split("@", 1)[1] for m in by_metric}, key=natural_key)
    rows = []
    for p in percentiles:
        precision, recall = by_metric.get(STUDY_PRECISION + p), by_metric.get(STUDY_RECALL + p)
        study = reference.precision_recall.get(int(p)) if p.isdigit() else None
        chance = tuple(float("nan") if r is None else float(r["chance"]) for r in (precision, recall))
        prior = tuple(vessel_prior_score(of_generator, data.controls, prefix + p)
                      for prefix in (STUDY_PRECISION, STUDY_RECALL))
        rows.append((p, _percent_pair(precision, recall),
                     "—" if study is None else f"{study[0]:.2f} / {study[1]:.2f}",
                     _plain_pair(*chance), _plain_pair(*prior)))
    per_seed = chosen["n_images"] / chosen["n_seeds"].clip(lower=1)
    return StudyTable(generator, architecture, explainer, reference, float(per_seed.mean()), tuple(rows))


def study_tables(data: BoardData) -> list[StudyTable]:
    """Every (generator, architecture, explainer) with study metrics whose explainer the
    study also ran, in natural order."""
    summary = data.summary
    study = summary[summary["metric"].astype(str).str.startswith((STUDY_PRECISION, STUDY_RECALL))]
    tables = []
    for (generator, architecture, explainer), chosen in sorted(
            study.groupby(["generator", "architecture", "explainer"], sort=False),
            key=lambda item: tuple(natural_key(str(v)) for v in item[0])):
        reference = STUDY_REFERENCES.get(data.controls.explainer_name(str(explainer)))
        if reference is not None and not data.controls.is_control_explainer(str(explainer)):
            tables.append(_study_table(data, chosen, str(generator), str(architecture), str(explainer), reference))
    return tables


def _run_protocol(manifest: Mapping[str, Any], architectures: list[str]) -> str:
    suite = manifest.get("suite") or {}
    learning_rate = (suite.get("training") or {}).get("learning_rate", "?")
    entries = {str(e.get("label")): e for e in suite.get("architectures") or [] if isinstance(e, Mapping)}
    described = []
    for label in architectures:
        entry = entries.get(label, {})
        params = entry.get("params") or {}
        pretrained = "pretrained" if params.get("pretrained") or params.get("weights") else "from scratch"
        rate = (entry.get("training") or {}).get("learning_rate", learning_rate)
        described.append(f"{label} {pretrained}, learning rate {rate}")
    return f"this run: {suite.get('image_size', '?')} px, " + "; ".join(described) + "."


def protocol_note(manifest: Mapping[str, Any], tables: list[StudyTable]) -> str:
    """One line on how the study's protocol differs from this run's."""
    note = ("Protocol differences: the study's CNN saw 244 px inputs (Adam 1e-3, trained from scratch); its "
            "ViT-B/16 was ImageNet-pretrained, at 384 px, Adam 1e-4")
    if not manifest.get("suite"):
        return note + "."
    architectures = list(dict.fromkeys(t.architecture for t in tables))
    return f"{note}; {_run_protocol(manifest, architectures)}"

