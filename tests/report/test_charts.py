"""Precision / recall against threshold as inline SVG."""

from __future__ import annotations

import re

import pytest

from ropbench.leaderboard import summarise
from ropbench.report.charts import Series, _nice_ceiling, line_chart_svg, threshold_series
from ropbench.results import read_table
from tests.report.fake_run import GENERATOR, PERCENTILES


def test_series_per_pair_plus_chance(fake_run):
    summary = summarise(read_table(fake_run / "results.csv"))
    series = threshold_series(summary, GENERATOR, "percentile-recall@")
    assert [s.label for s in series][-1] == "chance (random heatmap)" and series[-1].chance
    assert [x for x, _ in series[0].points] == [float(p) for p in PERCENTILES]
    assert series[0].points[0][1] == pytest.approx(55.0)
    assert series[-1].points[-1][1] == pytest.approx(5.0)
    with pytest.raises(ValueError):
        threshold_series(summary, GENERATOR, "accuracy")


def test_chart_maps_values_into_the_plot_area(fake_run):
    summary = summarise(read_table(fake_run / "results.csv"))
    svg = line_chart_svg(threshold_series(summary, GENERATOR, "percentile-recall@"), "t", "recall (%)")
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
