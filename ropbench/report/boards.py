"""The boards of a run: which tables each generator gets, in which row order.

One model serves the markdown leaderboard (:mod:`ropbench.leaderboard`) and the HTML
report, so both say the same thing (docs/metrics.md, "Reading a leaderboard"):

- the headline localization table holds the prior-controlled metrics (the vessel-map
  control scores exactly chance on them) and the verdict "beats vessel prior"
  (:mod:`.verdict`);
- control rows (:mod:`.controls`: random, vessel maps, oracle; the shortcut probe) are marked and listed
  after the explanations (models), in a fixed reference order, never ranked among them;
- whole-image metrics print the vessel prior's score beside the uniform chance;
- ``family@p`` localization metrics get one table per family, one column per p.

Torch-free: ``ropbench leaderboard`` and ``ropbench check`` import it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

import pandas as pd

from ropbench.registry import natural_key
from ropbench.report.controls import (
    ALL_ARCHITECTURES, CONTROL_MARK, EXPECTED_CONTROLS, SHORTCUT_PROBE, Controls, vessel_prior_score,
)
from ropbench.report.verdict import NOT_APPLICABLE, VERDICT_HEADER

__all__ = [
    "BoardData", "BoardRow", "BoardTable", "format_mean_std", "generator_board", "threshold_tables", "board_order",
    "HEADLINE_METRICS", "HEADLINE_RANKING", "WHOLE_IMAGE_METRICS", "MASK_FREE_METRICS", "MAX_METRIC_COLUMNS",
]

HEADLINE_METRICS = ("vessel-auroc", "segment-auroc", "prior-skill", "vessel-auprc")
HEADLINE_RANKING = ("vessel-auroc", "segment-auroc")  # what the one-picture chart shows, first present
WHOLE_IMAGE_METRICS = ("relevance-mass", "pointing-game", "auprc", "pixel-auroc", "relevance-rank-accuracy")
MASK_FREE_METRICS = ("attention-tortuosity-contrast", "intervention-rank", "intervention-hit")
FAMILY_ORDER = ("percentile-precision", "percentile-recall", "percentile-f1", "percentile-iou",
                "study-precision", "study-recall")
MAX_METRIC_COLUMNS = 7  # wider tables are split: a board must stay readable

KIND_TITLES = {
    "classification": "Classification (test set)",
    "faithfulness": "Faithfulness",
    "sanity": "Sanity checks",
}

Pair = tuple[str, str]


def format_mean_std(mean: float, std: float, digits: int = 3) -> str:
    """``mean ± std``; the mean alone when std is NaN (one seed); ``n/a`` without a mean."""
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "n/a"
    if std is None or (isinstance(std, float) and math.isnan(std)):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


@dataclass(frozen=True)
class BoardData:
    """What a run's boards are drawn from: the summary over seeds (see
    :func:`ropbench.leaderboard.summarise`), the verdicts, the controls and the manifest."""

    summary: pd.DataFrame
    verdicts: Mapping[tuple[str, str, str], str] = field(default_factory=dict)
    controls: Controls = field(default_factory=Controls)
    manifest: Mapping[str, Any] = field(default_factory=dict)

    @property
    def generators(self) -> list[str]:
        return sorted({str(g) for g in self.summary["generator"]}, key=natural_key)

    def of_generator(self, generator: str) -> pd.DataFrame:
        return self.summary[self.summary["generator"] == generator]


@dataclass(frozen=True)
class BoardRow:
    """One row: label cells (a control's explainer or architecture ends in " (control)")."""

    labels: tuple[str, ...]
    cells: tuple[str, ...]
    control: bool = False


@dataclass(frozen=True)
class BoardTable:
    """One table of a generator's board. ``section`` names what it holds (classification,
    headline, whole-image, mask-free, localization, faithfulness, sanity, a metric family)."""

    generator: str
    section: str
    title: str
    headers: tuple[str, ...]
    rows: tuple[BoardRow, ...]
    labels: int
    notes: tuple[str, ...] = ()


def _is_nan(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _family(metric: str) -> str | None:
    """``percentile-precision`` of ``percentile-precision@90``; None without an ``@``."""
    match = re.fullmatch(r"(.+)@([^@]+)", metric)
    return match.group(1) if match else None


def _header(rows: pd.DataFrame, metric: str, prior: float | None = None) -> str:
    of_metric = rows[rows["metric"] == metric]
    arrow = "↑" if bool(of_metric["higher_is_better"].iloc[0]) else "↓"
    chance = of_metric["chance"].astype(float).mean()
    notes = [] if math.isnan(chance) else [f"chance {chance:.3f}"]
    if prior is not None and not math.isnan(prior):
        notes.append(f"vessel prior {prior:.3f}")
    return f"{metric} {arrow}" + (f" ({', '.join(notes)})" if notes else "")


def _rank_key(row: Any) -> tuple[bool, float]:
    """Best first, direction-aware; pairs without the metric last."""
    if row is None or _is_nan(row.mean):
        return (True, 0.0)
    return (False, -row.mean if bool(row.higher_is_better) else row.mean)


def board_order(of_generator: pd.DataFrame, ranking: str | None, controls: Controls,
                       kind: str = "localization") -> list[Pair]:
    """(architecture, explainer) pairs of ``kind``: explanations best first by ``ranking``
    (plan order without it), then the controls, floor to ceiling. Every table of that
    kind lists its rows in this order, so rows line up across a generator's tables."""
    rows = of_generator[of_generator["kind"] == kind]
    pairs = list(dict.fromkeys((str(a), str(e)) for a, e in zip(rows["architecture"], rows["explainer"])))
    explanations = [p for p in pairs if not controls.is_control_explainer(p[1])]
    references = [p for p in pairs if controls.is_control_explainer(p[1])]
    if ranking is not None:
        ranked = {(str(r.architecture), str(r.explainer)): r
                  for r in rows[rows["metric"] == ranking].itertuples()}
        explanations.sort(key=lambda p: _rank_key(ranked.get(p)))
    references.sort(key=lambda p: (controls.reference_rank(p[1]), natural_key(p[1]), natural_key(p[0])))
    return explanations + references


def _cells(by_metric: Mapping[str, Any], metrics: Sequence[str]) -> tuple[str, ...]:
    return tuple(format_mean_std(by_metric[m].mean, by_metric[m].std) if m in by_metric else ""
                 for m in metrics)


def _pair_rows(rows: pd.DataFrame, order: list[Pair], metrics: Sequence[str], controls: Controls,
               generator: str, verdicts: Mapping[tuple[str, str, str], str] | None) -> tuple[BoardRow, ...]:
    """Rows of a localization-type table in ``order``; a control with the same cells for
    every architecture of the table becomes one row (it is model-free: the repetition
    would only push the explanations apart)."""
    by_pair: dict[Pair, dict[str, Any]] = {}
    for row in rows.itertuples():
        by_pair.setdefault((str(row.architecture), str(row.explainer)), {})[str(row.metric)] = row
    present = [p for p in order if p in by_pair]
    architectures = {a for a, _ in present}
    def cells_of(pair: Pair) -> tuple[str, ...]:
        cells = _cells(by_pair[pair], metrics)
        return cells + ((verdicts.get((generator, *pair), NOT_APPLICABLE),) if verdicts is not None else ())

    built: list[BoardRow] = []
    merged: set[str] = set()
    for architecture, explainer in present:
        if not controls.is_control_explainer(explainer):
            built.append(BoardRow((architecture, explainer), cells_of((architecture, explainer))))
            continue
        if explainer in merged:
            continue
        siblings = [p for p in present if p[1] == explainer]
        if (len(architectures) > 1 and {a for a, _ in siblings} == architectures
                and len({cells_of(p) for p in siblings}) == 1):
            merged.add(explainer)
            built.append(BoardRow((ALL_ARCHITECTURES, explainer + CONTROL_MARK), cells_of(siblings[0]), control=True))
        else:
            built.append(BoardRow((architecture, explainer + CONTROL_MARK), cells_of((architecture, explainer)),
                                  control=True))
    return tuple(built)


def _chunks(metrics: Sequence[str]) -> list[list[str]]:
    return [list(metrics[i:i + MAX_METRIC_COLUMNS]) for i in range(0, len(metrics), MAX_METRIC_COLUMNS)] or [[]]


def _pair_tables(of_generator: pd.DataFrame, generator: str, section: str, title: str, metrics: Sequence[str],
                 order: list[Pair], controls: Controls, *, priors: Mapping[str, float] | None = None,
                 verdicts: Mapping[tuple[str, str, str], str] | None = None,
                 notes: Sequence[str] = ()) -> list[BoardTable]:
    rows = of_generator[of_generator["metric"].isin(list(metrics))]
    chunks = _chunks(metrics)
    tables = []
    for number, chunk in enumerate(chunks, start=1):
        headers = ["architecture", "explainer"]
        headers += [_header(rows, m, (priors or {}).get(m)) for m in chunk]
        if verdicts is not None:
            headers.append(VERDICT_HEADER)
        part = f" ({number} of {len(chunks)})" if len(chunks) > 1 else ""
        tables.append(BoardTable(
            generator, section, title + part, tuple(headers),
            _pair_rows(rows[rows["metric"].isin(chunk)], order, chunk, controls, generator, verdicts),
            labels=2, notes=tuple(notes) if number == 1 else ()))
    return tables


def _present(metrics: Iterable[str], wanted: Sequence[str]) -> list[str]:
    available = set(metrics)
    return [m for m in wanted if m in available]


def _ranked(title: str, ranking: str | None) -> str:
    return f"{title} — ranked by {ranking}" if ranking else title


def _classification_tables(of_generator: pd.DataFrame, generator: str, ranking: str | None,
                           controls: Controls) -> list[BoardTable]:
    rows = of_generator[of_generator["kind"] == "classification"]
    metrics = sorted({str(m) for m in rows["metric"]}, key=natural_key)
    architectures = list(dict.fromkeys(str(a) for a in rows["architecture"]))
    models = [a for a in architectures if not controls.is_control_architecture(a)]
    probes = [a for a in architectures if controls.is_control_architecture(a)]
    if ranking is not None:
        ranked = {str(r.architecture): r for r in rows[rows["metric"] == ranking].itertuples()}
        models.sort(key=lambda a: _rank_key(ranked.get(a)))
    notes = () if probes else (f"No shortcut probe in this suite: add `{SHORTCUT_PROBE}` (a tortuosity-blind "
                               "classifier) to see whether the classes differ in anything but tortuosity.",)
    by_architecture: dict[str, dict[str, Any]] = {}
    for row in rows.itertuples():
        by_architecture.setdefault(str(row.architecture), {})[str(row.metric)] = row
    chunks = _chunks(metrics)
    tables = []
    for number, chunk in enumerate(chunks, start=1):
        board_rows = [BoardRow((a,), _cells(by_architecture[a], chunk)) for a in models]
        board_rows += [BoardRow((a + CONTROL_MARK,), _cells(by_architecture[a], chunk), control=True) for a in probes]
        part = f" ({number} of {len(chunks)})" if len(chunks) > 1 else ""
        tables.append(BoardTable(generator, "classification", _ranked(KIND_TITLES["classification"], ranking) + part,
                                 ("architecture", *(_header(rows, m) for m in chunk)), tuple(board_rows), labels=1,
                                 notes=notes if number == 1 else ()))
    return tables


def _missing_controls(of_generator: pd.DataFrame, controls: Controls) -> tuple[str, ...]:
    explainers = {str(e) for e in of_generator[of_generator["kind"] == "localization"]["explainer"]}
    missing = [name for name in EXPECTED_CONTROLS if not controls.labels_of(name, explainers)]
    return (f"controls missing: {', '.join(missing)}",) if missing else ()


def _ranking(of_generator: pd.DataFrame, kind: str, rank_by: Sequence[str]) -> str | None:
    present = set(of_generator[of_generator["kind"] == kind]["metric"])
    return next((m for m in rank_by if m in present), None)


def _localization_tables(data: BoardData, generator: str, rank_by: Sequence[str]) -> list[BoardTable]:
    of_generator = data.of_generator(generator)
    rows = of_generator[of_generator["kind"] == "localization"]
    if rows.empty:
        return []
    metrics = {str(m) for m in rows["metric"]}
    ranking = _ranking(of_generator, "localization", rank_by)
    order = board_order(of_generator, ranking, data.controls)
    missing = _missing_controls(of_generator, data.controls)
    tables: list[BoardTable] = []
    headline = _present(metrics, HEADLINE_METRICS)
    if headline:
        tables += _pair_tables(rows, generator, "headline", _ranked("Localization beyond the vessel prior", ranking),
                               headline, order, data.controls, verdicts=data.verdicts, notes=missing)
    whole_image = _present(metrics, WHOLE_IMAGE_METRICS)
    if whole_image:
        notes = () if headline else (
            f"No prior-controlled metric ({', '.join(HEADLINE_METRICS)}) in this suite: a map that only "
            "lights up the vessels can score well on these.", *missing)
        priors = {m: vessel_prior_score(of_generator, data.controls, m) for m in whole_image}
        tables += _pair_tables(rows, generator, "whole-image",
                               _ranked("Whole-image localization (chance = a uniformly random map; vessel prior = "
                                       "the vessel-map control)", ranking),
                               whole_image, order, data.controls, priors=priors, notes=notes)
    mask_free = _present(metrics, MASK_FREE_METRICS)
    if mask_free:
        tables += _pair_tables(rows, generator, "mask-free", _ranked("Mask-free and interventional", ranking),
                               mask_free, order, data.controls)
    grouped = set(headline) | set(whole_image) | set(mask_free)
    other = sorted((m for m in metrics - grouped if _family(m) is None), key=natural_key)
    if other:
        tables += _pair_tables(rows, generator, "localization", _ranked("Other localization", ranking),
                               other, order, data.controls)
    return tables


def _kind_tables(data: BoardData, generator: str, kind: str, rank_by: Sequence[str]) -> list[BoardTable]:
    of_generator = data.of_generator(generator)
    rows = of_generator[of_generator["kind"] == kind]
    if rows.empty:
        return []
    ranking = _ranking(of_generator, kind, rank_by)
    order = board_order(of_generator, ranking, data.controls, kind=kind)
    metrics = sorted({str(m) for m in rows["metric"]}, key=natural_key)
    return _pair_tables(rows, generator, kind, _ranked(KIND_TITLES.get(kind, kind.capitalize()), ranking),
                        metrics, order, data.controls)


def generator_board(data: BoardData, generator: str, rank_by: Sequence[str]) -> list[BoardTable]:
    """The tables of one generator: classification, localization beyond the vessel prior
    (with the verdict), whole-image localization, mask-free and other localization,
    faithfulness, sanity, then any kind a plugin adds. ``rank_by``: the first metric of
    it present in a kind ranks that kind's explanations."""
    of_generator = data.of_generator(generator)
    tables: list[BoardTable] = []
    if (of_generator["kind"] == "classification").any():
        tables += _classification_tables(of_generator, generator, _ranking(of_generator, "classification", rank_by),
                                         data.controls)
    tables += _localization_tables(data, generator, rank_by)
    kinds = ["faithfulness", "sanity"] + sorted(
        {str(k) for k in of_generator["kind"]} - {"classification", "localization", "faithfulness", "sanity"})
    for kind in kinds:
        tables += _kind_tables(data, generator, kind, rank_by)
    return tables


def _family_sort_key(family: str) -> tuple[int, list[object]]:
    return (FAMILY_ORDER.index(family) if family in FAMILY_ORDER else len(FAMILY_ORDER), natural_key(family))


def threshold_tables(data: BoardData, generator: str, rank_by: Sequence[str]) -> list[BoardTable]:
    """One table per ``family@p`` localization metric family (percentile-precision,
    study-recall, ...), one column per p, rows in the generator's localization order."""
    of_generator = data.of_generator(generator)
    rows = of_generator[of_generator["kind"] == "localization"]
    by_family: dict[str, list[str]] = {}
    for metric in sorted({str(m) for m in rows["metric"]}, key=natural_key):
        family = _family(metric)
        if family is not None and metric not in HEADLINE_METRICS:
            by_family.setdefault(family, []).append(metric)
    order = board_order(of_generator, _ranking(of_generator, "localization", rank_by), data.controls)
    tables = []
    for family in sorted(by_family, key=_family_sort_key):
        tables += _pair_tables(rows, generator, family, f"{generator}: {family}@p", by_family[family], order,
                               data.controls)
    return tables
