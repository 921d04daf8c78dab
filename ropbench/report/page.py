"""The report page: sections in reading order, inside the inline template."""

from __future__ import annotations

from html import escape
from importlib import resources
from pathlib import Path
from string import Template
from typing import Sequence

from ropbench import __version__
from ropbench.leaderboard import DEFAULT_RANKING
from ropbench.report.confusion import build_confusion_matrices
from ropbench.report.gallery import CacheReader, build_galleries
from ropbench.report.rundata import RunData, load_run
from ropbench.report.sections import (
    confusion_section, facts_section, gallery_section, glance_section, leaderboard_section, manifest_section,
    study_section, thresholds_section,
)

__all__ = ["render_report", "write_report", "NAVIGATION"]

NAVIGATION = (("glance", "At a glance"), ("leaderboards", "Leaderboards"), ("thresholds", "Percentile thresholds"),
              ("study", "Original study format"), ("gallery", "Heatmap gallery"),
              ("confusion", "Confusion matrices"), ("manifest", "Manifest"))


def _asset(name: str) -> str:
    return resources.files("ropbench.report").joinpath(name).read_text(encoding="utf-8")


def render_report(run: RunData, rank_by: Sequence[str] = ()) -> str:
    """The report page of ``run`` as one HTML string (deterministic for a given run)."""
    rank_by = tuple(rank_by) or DEFAULT_RANKING
    cache_dir = run.cache_dir
    reader = CacheReader(cache_dir) if cache_dir is not None and cache_dir.is_dir() else None
    unavailable = (f"the run's cache directory {cache_dir} is not available" if cache_dir
                   else "the run's manifest names no cache directory")
    matrices = build_confusion_matrices(run, reader) if reader is not None else None
    sections = [
        glance_section(run.boards, run.table),
        leaderboard_section(run.boards, rank_by),
        thresholds_section(run.boards, rank_by),
        study_section(run.boards),
        gallery_section(build_galleries(run, reader, unavailable)),
        confusion_section(matrices, unavailable),
        manifest_section(run.manifest),
    ]
    present = "".join(s for s in sections if s)
    navigation = " ".join(f'<a href="#{anchor}">{text}</a>' for anchor, text in NAVIGATION
                          if f'id="{anchor}"' in present)
    title = f"ropbench report: {run.title}"
    body = (f"<header><h1>{escape(title)}</h1>{facts_section(run.manifest, run.title)}"
            f"<nav>{navigation}</nav></header><main>{present}</main>")
    return Template(_asset("report.html")).substitute(
        title=escape(title), css=_asset("report.css"), body=body, version=__version__)


def write_report(run_dir: Path, out: Path | None = None, rank_by: Sequence[str] = ()) -> Path:
    """Write the report of the run in ``run_dir`` to ``out`` (default ``run_dir/report.html``)."""
    run = load_run(Path(run_dir))
    target = Path(out) if out is not None else run.run_dir / "report.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_report(run, rank_by), encoding="utf-8")
    return target
