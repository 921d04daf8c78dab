"""The report's charts as inline SVG: the first picture (each explanation against the
controls) and precision / recall against threshold."""

from __future__ import annotations

import math
import re

import pytest

from ropbench.leaderboard import board_data
from ropbench.report.controls import Controls
from ropbench.report.charts import (
    CHANCE, PERCENTILE_RECALL, VESSEL_PRIOR_LINE, Series, _nice_ceiling, line_chart_svg, threshold_series,
)
from ropbench.report.prior_chart import PLOT_HEIGHT, PLOT_TOP, prior_chart, prior_chart_svg
from ropbench.rundir import RunDir
from tests.report.fake_run import GENERATOR, PERCENTILES


def _chart(fake_run, table_filter=None):
    run = RunDir.open(fake_run)
    table = run.results if table_filter is None else run.results[table_filter(run.results)]
    return prior_chart(board_data(table, run.manifest), table, GENERATOR)


def _y(value: float) -> float:
    """Pixel row of a score on the chart's 0..1 axis."""
    return PLOT_TOP + (1 - value) * PLOT_HEIGHT


def test_prior_chart_has_one_mark_per_explanation_best_first(fake_run):
    chart = _chart(fake_run)
    assert chart.metric == "vessel-auroc"
    # Means over seeds (fake_run.VESSEL_AUROC): gradcam 0.79, rollout 0.61; controls get no mark.
    assert [(m.label, round(m.mean, 6), m.verdict) for m in chart.marks] == [
        ("seed-cnn / gradcam", 0.79, "yes"), ("vit_tiny_patch16 / rollout", 0.61, "no")]
    svg = prior_chart_svg(chart)
    marks = re.findall(r'<g class="mark" data-pair="([^"]+)" data-verdict="(\w+)">(.*?)</g>', svg)
    assert [(pair, verdict) for pair, verdict, _ in marks] == [("seed-cnn / gradcam", "yes"),
                                                               ("vit_tiny_patch16 / rollout", "no")]
    # gradcam: circle at 0.79, filled (beats the prior); whisker from the mean per-seed CI bounds,
    # (0.62 + 0.55) / 2 = 0.585 to (0.95 + 0.93) / 2 = 0.94.
    gradcam = marks[0][2]
    assert re.search(rf'<circle cx="[\d.]+" cy="{_y(0.79):.1f}" r="5.5" fill="#4e79a7"', gradcam)
    assert f'y1="{_y(0.585):.1f}" y2="{_y(0.94):.1f}"' in gradcam
    assert 'fill="#ffffff"' in marks[1][2]  # the rollout does not beat the prior: hollow


def test_prior_chart_reference_lines_are_the_controls_scores(fake_run):
    svg = prior_chart_svg(_chart(fake_run))
    lines = dict(re.findall(r'<line class="reference" data-reference="([^"]+)" x1="\d+" x2="\d+" y1="([\d.]+)"', svg))
    # random: mean of 0.50 and 0.49; vessel prior 0.5 exactly; oracle 1.
    assert lines == {"random map": f"{_y(0.495):.1f}", "vessel prior": f"{_y(0.5):.1f}", "oracle": f"{_y(1.0):.1f}"}
    assert "vessel prior 0.500" in svg and "oracle 1.000" in svg


def test_prior_chart_names_a_missing_control_and_needs_a_headline_metric(fake_run):
    chart = _chart(fake_run, lambda t: t["explainer"] != "oracle")
    assert "not in this run: oracle" in prior_chart_svg(chart)
    assert 'data-reference="oracle"' not in prior_chart_svg(chart)
    only_mass = _chart(fake_run, lambda t: t["metric"].isin(["relevance-mass", "accuracy"]))
    assert only_mass is None


def test_prior_chart_uses_segment_auroc_without_vessel_auroc(fake_run):
    run = RunDir.open(fake_run)
    table = run.results.copy()
    table.loc[table["metric"] == "vessel-auroc", "metric"] = "segment-auroc"
    chart = prior_chart(board_data(table, run.manifest), table, GENERATOR)
    assert chart.metric == "segment-auroc" and len(chart.marks) == 2


def test_labels_fit_inside_the_chart(fake_run):
    svg = prior_chart_svg(_chart(fake_run))
    width = float(re.search(r'width="(\d+)"', svg).group(1))
    height = float(re.search(r'height="(\d+)"', svg).group(1))
    first_x = float(re.search(r'<text class="pair" transform="translate\(([\d.]+) ', svg).group(1))
    # The longest label, 26 characters (an 11 px sans-serif character is under 6.4 px), runs
    # down-left at 40 degrees from below its mark: it must not leave the picture.
    reach = 26 * 6.4
    assert first_x - reach * math.cos(math.radians(40)) >= 0
    assert PLOT_TOP + PLOT_HEIGHT + 14 + reach * math.sin(math.radians(40)) <= height and width > first_x


def test_threshold_series_are_explanations_plus_chance_and_vessel_prior(fake_run):
    run = RunDir.open(fake_run)
    data = board_data(run.results, run.manifest)
    series = threshold_series(data.summary, GENERATOR, PERCENTILE_RECALL, data.controls)
    assert [s.label for s in series] == ["seed-cnn / gradcam", "vit_tiny_patch16 / rollout", CHANCE,
                                         VESSEL_PRIOR_LINE]
    assert [s.reference for s in series] == [False, False, True, True]
    assert [x for x, _ in series[0].points] == [float(p) for p in PERCENTILES]
    assert series[0].points[0][1] == pytest.approx(55.0)  # recall@50 = 1 - 0.50 + 0.05
    assert series[2].points[-1][1] == pytest.approx(5.0)  # chance at 95: 1 - 0.95
    with pytest.raises(ValueError):
        threshold_series(data.summary, GENERATOR, "accuracy", Controls())


def test_chart_maps_values_into_the_plot_area(fake_run):
    run = RunDir.open(fake_run)
    data = board_data(run.results, run.manifest)
    svg = line_chart_svg(threshold_series(data.summary, GENERATOR, PERCENTILE_RECALL, data.controls), "t", "recall (%)")
    assert svg.count("<polyline") == 4 and svg.count('stroke-dasharray="5 4"') == 2
    for points in re.findall(r'points="([^"]+)"', svg):
        for pair in points.split():
            x, y = map(float, pair.split(","))
            assert 48 <= x <= 420 - 12 and 14 <= y <= 260 - 40
    assert "no data" in line_chart_svg([], "empty", "y")


@pytest.mark.parametrize(("value", "ceiling"), [(4.2, 5), (38, 50), (0.3, 0.5), (99, 100), (120, 100), (0, 1)])
def test_nice_ceiling(value, ceiling):
    assert _nice_ceiling(value) == pytest.approx(ceiling)


@pytest.mark.parametrize(("ceiling", "ticks"), [(25, ["0", "5", "10", "15", "20", "25"]),
                                                (2, ["0", "0.5", "1", "1.5", "2"]),
                                                (100, ["0", "20", "40", "60", "80", "100"])])
def test_y_ticks_are_round_numbers(ceiling, ticks):
    series = [Series("a", ((50.0, ceiling * 0.9), (90.0, ceiling)))]
    svg = line_chart_svg(series, "t", "y")
    assert re.findall(r'text-anchor="end">([^<]+)</text>', svg) == ticks
