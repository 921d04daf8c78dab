"""Precision and recall against the percentile threshold, drawn as inline SVG.

No plotting library: a line chart is a few ``<polyline>`` elements, and inline SVG
needs nothing from the network. Values come from the run's ``percentile-precision@p``
and ``percentile-recall@p`` rows (mean over seeds), one line per explanation; two
dashed reference lines: the chance level (a uniformly random heatmap, grey) and the
vessel prior (the vessel-map control, red). Controls get no line of their own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

import pandas as pd

from ropbench.registry import natural_key
from ropbench.report.controls import Controls, vessel_prior_score

__all__ = ["Series", "threshold_series", "line_chart_svg", "PALETTE", "PERCENTILE_PRECISION", "PERCENTILE_RECALL",
           "CHANCE", "VESSEL_PRIOR_LINE"]

PERCENTILE_PRECISION = "percentile-precision@"
PERCENTILE_RECALL = "percentile-recall@"
# Tableau 10 less its red and grey, which the reference lines use.
PALETTE = ("#4e79a7", "#f28e2b", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f")
CHANCE, VESSEL_PRIOR_LINE = "chance (random heatmap)", "vessel prior (vessel-map control)"
REFERENCE_COLOURS = {CHANCE: "#888888", VESSEL_PRIOR_LINE: "#e15759"}
WIDTH, HEIGHT = 420, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 14, 40


@dataclass(frozen=True)
class Series:
    """One line: (percentile, value in percent) points."""

    label: str
    points: tuple[tuple[float, float], ...]
    reference: bool = False  # a dashed reference line (chance, vessel prior), not an explanation

    @property
    def colour(self) -> str:
        return REFERENCE_COLOURS.get(self.label, "#888888")


def threshold_series(summary: pd.DataFrame, generator: str, prefix: str,
                     controls: Controls | None = None) -> list[Series]:
    """One series per explanation (architecture, explainer) of ``generator`` for metric
    ``prefix`` (``percentile-precision@`` or ``percentile-recall@``), then the chance and
    the vessel-prior reference series."""
    if prefix not in (PERCENTILE_PRECISION, PERCENTILE_RECALL):
        raise ValueError(f"unknown percentile metric prefix {prefix!r}")
    controls = controls or Controls()
    rows = summary[(summary["generator"] == generator) & summary["metric"].astype(str).str.startswith(prefix)]
    percentiles = sorted((p for p in {str(m).split("@", 1)[1] for m in rows["metric"]} if _is_number(p)),
                         key=natural_key)
    series, chance_points, prior_points = [], {}, []
    for p in percentiles:
        prior = vessel_prior_score(rows, controls, prefix + p)
        if not math.isnan(prior):
            prior_points.append((float(p), 100 * prior))
    pairs = sorted({(str(a), str(e)) for a, e in zip(rows["architecture"], rows["explainer"])
                    if not controls.is_control_explainer(str(e))},
                   key=lambda pair: (natural_key(pair[0]), natural_key(pair[1])))
    for architecture, explainer in pairs:
        of_pair = rows[(rows["architecture"] == architecture) & (rows["explainer"] == explainer)]
        by_metric = {str(r["metric"]): r for _, r in of_pair.iterrows()}
        points = []
        for p in percentiles:
            row = by_metric.get(prefix + p)
            if row is not None and not math.isnan(row["mean"]):
                points.append((float(p), 100 * float(row["mean"])))
                if not math.isnan(row["chance"]):
                    chance_points.setdefault(float(p), []).append(100 * float(row["chance"]))
        if points:
            series.append(Series(f"{architecture} / {explainer}", tuple(points)))
    if chance_points:
        chance = tuple((p, sum(v) / len(v)) for p, v in sorted(chance_points.items()))
        series.append(Series(CHANCE, chance, reference=True))
    if prior_points:
        series.append(Series(VESSEL_PRIOR_LINE, tuple(prior_points), reference=True))
    return series


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 x 10^k (capped at 100) that is >= value."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * magnitude >= value:
            return min(100.0, step * magnitude)
    return 100.0


def _tick_steps(ceiling: float) -> int:
    """Grid intervals that land on round numbers: 2 -> 0.5 steps (4), 1, 2.5, 5 -> fifths."""
    leading = ceiling / 10 ** math.floor(math.log10(ceiling))
    return 4 if math.isclose(leading, 2.0) else 5


def line_chart_svg(series: list[Series], title: str, y_label: str) -> str:
    """An accessible SVG line chart (x: percentile threshold, y: percent) with a legend."""
    xs = [x for s in series for x, _ in s.points]
    if not xs:
        return f'<p class="muted">{escape(title)}: no data.</p>'
    x_low, x_high = min(xs), max(xs)
    x_span = (x_high - x_low) or 1.0
    y_high = _nice_ceiling(max(y for s in series for _, y in s.points))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def at(x: float, y: float) -> str:
        return f"{LEFT + (x - x_low) / x_span * plot_w:.1f},{TOP + (1 - y / y_high) * plot_h:.1f}"

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{WIDTH}" height="{HEIGHT}" '
             f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}">',
             f"<title>{escape(title)}</title>"]
    steps = _tick_steps(y_high)
    for k in range(steps + 1):  # horizontal grid and y ticks
        y = y_high * k / steps
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{TOP + (1 - k / steps) * plot_h:.1f}" '
                     f'y2="{TOP + (1 - k / steps) * plot_h:.1f}" class="grid"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{TOP + (1 - k / steps) * plot_h + 4:.1f}" '
                     f'text-anchor="end">{y:g}</text>')
    for x in sorted(set(xs)):
        parts.append(f'<text x="{at(x, 0).split(",")[0]}" y="{HEIGHT - BOTTOM + 16}" '
                     f'text-anchor="middle">{x:g}</text>')
    parts.append(f'<text x="{LEFT + plot_w / 2:.0f}" y="{HEIGHT - 6}" text-anchor="middle">'
                 "percentile threshold p</text>")
    parts.append(f'<text transform="translate(12 {TOP + plot_h / 2:.0f}) rotate(-90)" '
                 f'text-anchor="middle">{escape(y_label)}</text>')
    for index, line in enumerate(series):
        colour = line.colour if line.reference else PALETTE[index % len(PALETTE)]
        dash = ' stroke-dasharray="5 4"' if line.reference else ""
        points = " ".join(at(x, y) for x, y in line.points)
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2"{dash} points="{points}">'
                     f"<title>{escape(line.label)}</title></polyline>")
    parts.append("</svg>")
    legend = "".join(
        f'<li><span class="swatch{" reference" if s.reference else ""}" style="background:'
        f'{s.colour if s.reference else PALETTE[i % len(PALETTE)]}"></span>{escape(s.label)}</li>'
        for i, s in enumerate(series))
    return f'<figure class="chart-box"><figcaption>{escape(title)}</figcaption>{"".join(parts)}' \
           f'<ul class="legend">{legend}</ul></figure>'
