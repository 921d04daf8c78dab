"""Built-in reporters: the markdown and CSV leaderboards and the HTML report of a run."""

from __future__ import annotations

from ropbench import hookimpl
from ropbench.specs import ReporterSpec
from ropbench_plugins.reporters.html import write_html_report
from ropbench_plugins.reporters.leaderboards import write_csv_leaderboard, write_markdown_leaderboard

__all__ = ["ropbench_register_reporters"]


@hookimpl
def ropbench_register_reporters() -> list[ReporterSpec]:
    return [
        ReporterSpec(
            name="markdown",
            write=write_markdown_leaderboard,
            description="leaderboard.md: mean ± std over seeds per generator and metric kind.",
        ),
        ReporterSpec(
            name="csv",
            write=write_csv_leaderboard,
            description="leaderboard.csv: the same summary, one row per metric; a regression baseline.",
        ),
        ReporterSpec(
            name="html",
            write=write_html_report,
            description="report.html: self-contained page with leaderboards, heatmap gallery, curves.",
        ),
    ]
