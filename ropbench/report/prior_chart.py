"""The report's first picture: per generator, every explanation's prior-controlled score
against the random map, the vessel prior and the oracle.

One mark per (architecture, explainer), best first: the mean over seeds of the headline
metric (``vessel-auroc``; ``segment-auroc`` when the run has no vessel-auroc), a whisker
from the mean over seeds of the per-seed bootstrap 95% CI lower bounds to that of the
upper bounds, filled when the board's verdict says it beats the vessel prior, hollow
otherwise. Horizontal lines: the controls' mean score on the same metric. Inline SVG, no
plotting library (see :mod:`.charts`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

import pandas as pd

from ropbench.report.boards import HEADLINE_RANKING, BoardData, board_order
from ropbench.report.controls import ORACLE, RANDOM_MAP, VESSEL_PRIOR, control_mean
from ropbench.report.verdict import YES

__all__ = ["HeadlineMark", "ReferenceLine", "PriorChart", "prior_chart", "prior_chart_svg", "REFERENCES",
           "PLOT_TOP", "PLOT_HEIGHT"]

# Floor to ceiling; the vessel prior is the bar an explanation has to clear.
REFERENCES = ((RANDOM_MAP, "random map", "#888888", "2 3"), (VESSEL_PRIOR, "vessel prior", "#e15759", "7 4"),
              (ORACLE, "oracle", "#59a14f", "4 3"))
MARK_COLOUR = "#4e79a7"
AXIS, PLOT_TOP, PLOT_HEIGHT, STEP, LABELS_RIGHT = 48, 16, 240, 60, 130
# Pair labels run down-left at LABEL_ANGLE; the margins grow with the longest label
# (CHAR_WIDTH: an 11 px sans-serif character, generous so nothing is clipped).
LABEL_ANGLE, CHAR_WIDTH = 40.0, 6.4


@dataclass(frozen=True)
class HeadlineMark:
    """One explanation: mean score over seeds, mean per-seed CI bounds, the board's verdict."""

    architecture: str
    explainer: str
    mean: float
    ci_low: float
    ci_high: float
    verdict: str

    @property
    def label(self) -> str:
        return f"{self.architecture} / {self.explainer}"


@dataclass(frozen=True)
class ReferenceLine:
    """A control's mean score on the chart's metric (NaN: the run lacks that control)."""

    name: str
    value: float
    colour: str
    dash: str


@dataclass(frozen=True)
class PriorChart:
    generator: str
    metric: str
    marks: tuple[HeadlineMark, ...]
    references: tuple[ReferenceLine, ...]


def prior_chart(data: BoardData, table: pd.DataFrame, generator: str) -> PriorChart | None:
    """The chart of ``generator`` (None when it has no headline metric). ``table`` is the
    run's per-seed results, for the CI bounds."""
    of_generator = data.of_generator(generator)
    present = set(of_generator[of_generator["kind"] == "localization"]["metric"])
    metric = next((m for m in HEADLINE_RANKING if m in present), None)
    if metric is None:
        return None
    rows = of_generator[of_generator["metric"] == metric]
    means = {(str(r.architecture), str(r.explainer)): float(r.mean) for r in rows.itertuples()}
    per_seed = table[(table["generator"] == generator) & (table["metric"] == metric)]
    bounds = per_seed.groupby(["architecture", "explainer"])[["ci_low", "ci_high"]].mean()
    marks = []
    for pair in board_order(of_generator, metric, data.controls):
        if data.controls.is_control_explainer(pair[1]) or pair not in means:
            continue
        low, high = (bounds.loc[pair].tolist() if pair in bounds.index else [math.nan, math.nan])
        marks.append(HeadlineMark(*pair, means[pair], float(low), float(high),
                                  data.verdicts.get((generator, *pair), "n/a")))
    references = tuple(ReferenceLine(name, control_mean(of_generator, data.controls, control, metric), colour, dash)
                       for control, name, colour, dash in REFERENCES)
    return PriorChart(generator, metric, tuple(marks), references)


def _finite(*values: float) -> list[float]:
    return [v for v in values if not math.isnan(v)]


def _label_positions(wanted: list[float], gap: float = 12.0) -> list[float]:
    """Label baselines near ``wanted`` (pixel y), pushed apart to at least ``gap``."""
    order = sorted(range(len(wanted)), key=lambda i: wanted[i])
    placed = [0.0] * len(wanted)
    previous = -math.inf
    for i in order:
        placed[i] = max(wanted[i], previous + gap)
        previous = placed[i]
    return placed


def prior_chart_svg(chart: PriorChart) -> str:
    """The chart as a captioned inline SVG figure with a legend."""
    values = _finite(*(v for m in chart.marks for v in (m.mean, m.ci_low, m.ci_high)),
                     *(r.value for r in chart.references))
    low, high = min([0.0, *values]), max([1.0, *values])
    plot_w = max(len(chart.marks), 4) * STEP
    longest = max([len(m.label) for m in chart.marks] + [0]) * CHAR_WIDTH
    angle = math.radians(LABEL_ANGLE)
    left = max(AXIS, math.ceil(longest * math.cos(angle) - STEP / 2 + 8))
    width = left + plot_w + LABELS_RIGHT
    height = PLOT_TOP + PLOT_HEIGHT + math.ceil(longest * math.sin(angle)) + 28

    def y(value: float) -> float:
        return PLOT_TOP + (high - value) / (high - low) * PLOT_HEIGHT

    title = f"{chart.generator}: {chart.metric} of each explanation against the controls"
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart prior-chart" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
             f'data-generator="{escape(chart.generator)}" data-metric="{escape(chart.metric)}">',
             f"<title>{escape(title)}</title>"]
    for k in range(5):
        value = low + (high - low) * k / 4
        parts.append(f'<line class="grid" x1="{left}" x2="{left + plot_w}" y1="{y(value):.1f}" y2="{y(value):.1f}"/>'
                     f'<text x="{left - 6}" y="{y(value) + 4:.1f}" text-anchor="end">{value:g}</text>')
    parts.append(f'<text transform="translate({left - 34} {PLOT_TOP + PLOT_HEIGHT / 2:.0f}) rotate(-90)" '
                 f'text-anchor="middle">{escape(chart.metric)}</text>')
    drawn = [r for r in chart.references if not math.isnan(r.value)]
    for line, label_y in zip(drawn, _label_positions([y(r.value) + 4 for r in drawn])):
        parts.append(f'<line class="reference" data-reference="{escape(line.name)}" x1="{left}" '
                     f'x2="{left + plot_w}" y1="{y(line.value):.1f}" y2="{y(line.value):.1f}" stroke="{line.colour}" '
                     f'stroke-width="2" stroke-dasharray="{line.dash}"><title>{escape(line.name)}: '
                     f"{line.value:.3f}</title></line>"
                     f'<text x="{left + plot_w + 6}" y="{label_y:.1f}" fill="{line.colour}">'
                     f"{escape(line.name)} {line.value:.3f}</text>")
    for index, mark in enumerate(chart.marks):
        x = left + (index + 0.5) * STEP
        summary = (f"{mark.label}: {chart.metric} {mark.mean:.3f}, CI {mark.ci_low:.3f} to {mark.ci_high:.3f}, "
                   f"beats vessel prior: {mark.verdict}")
        body = [f"<title>{escape(summary)}</title>"]
        if not math.isnan(mark.ci_low) and not math.isnan(mark.ci_high):
            body.append(f'<line class="ci" x1="{x:.1f}" x2="{x:.1f}" y1="{y(mark.ci_low):.1f}" '
                        f'y2="{y(mark.ci_high):.1f}" stroke="{MARK_COLOUR}" stroke-width="1.5"/>')
        if math.isnan(mark.mean):
            body.append(f'<text x="{x:.1f}" y="{PLOT_TOP + PLOT_HEIGHT - 4}" text-anchor="middle">n/a</text>')
        else:
            fill = MARK_COLOUR if mark.verdict == YES else "#ffffff"
            body.append(f'<circle cx="{x:.1f}" cy="{y(mark.mean):.1f}" r="5.5" fill="{fill}" '
                        f'stroke="{MARK_COLOUR}" stroke-width="2"/>')
        body.append(f'<text class="pair" transform="translate({x:.1f} {PLOT_TOP + PLOT_HEIGHT + 14}) '
                    f'rotate(-{LABEL_ANGLE:g})" text-anchor="end">{escape(mark.label)}</text>')
        parts.append(f'<g class="mark" data-pair="{escape(mark.label)}" data-verdict="{escape(mark.verdict)}">'
                     + "".join(body) + "</g>")
    parts.append("</svg>")
    missing = [r.name for r in chart.references if math.isnan(r.value)]
    legend = ("<li><span class=\"dot filled\"></span>beats the vessel prior (CI lower bound above it in every "
              "seed)</li><li><span class=\"dot\"></span>does not</li>"
              "<li>whiskers: mean over seeds of the per-seed 95% bootstrap CI bounds</li>"
              + (f"<li>not in this run: {escape(', '.join(missing))}</li>" if missing else ""))
    return (f'<figure class="chart-box prior-box"><figcaption>{escape(title)}</figcaption>{"".join(parts)}'
            f'<ul class="legend">{legend}</ul></figure>')
