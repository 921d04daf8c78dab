"""scripts/check_report_in_browser.py: its DOM checks, and (where Chromium is installed) the
real page of a fake run, whose prior chart must draw one mark per explanation."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from ropbench.report import write_report

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "check_report_in_browser.py"
spec = importlib.util.spec_from_file_location("check_report_in_browser", SCRIPT)
check = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check)


def _dom(status: str, loaded: int, total: int, tables: int, extra: str = "", charts: int = 1,
         chart_problems: str = "") -> str:
    return (f'<html><head></head><body data-images-status="{status}" data-images-total="{total}" '
            f'data-images-loaded="{loaded}" data-tables-rendered="{tables}" data-charts="{charts}" '
            f'data-chart-problems="{chart_problems}">{extra}</body></html>')


def test_all_loaded_page_passes():
    assert check.check_dom(_dom("all-loaded", 4, 4, 3), expected_images=4, expected_charts=1) == []


def test_broken_missing_or_unrun_pages_fail():
    assert "1 of 2 pictures" in check.check_dom(_dom("broken", 1, 2, 3), 2, 1)[0]
    assert check.check_dom(_dom("all-loaded", 2, 2, 3), 3, 1)  # an <img> never made it into the DOM
    assert check.check_dom(_dom("all-loaded", 2, 2, 0), 2, 1)  # no table rendered
    assert check.check_dom("<html><body data-images-status=\"pending\"></body></html>", 0)  # script never ran
    unavailable = _dom("all-loaded", 0, 0, 2, '<p class="warning gallery-unavailable">x</p>')
    assert any("gallery is unavailable" in p for p in check.check_dom(unavailable, 0, 1))


def test_chart_problems_fail_the_page():
    assert any("0 prior charts" in p for p in check.check_dom(_dom("all-loaded", 0, 0, 2, charts=0), 0, 1))
    problems = check.check_dom(_dom("all-loaded", 0, 0, 2, chart_problems="g: 1 marks for 2 explanations"), 0, 1)
    assert problems == ["prior chart: g: 1 marks for 2 explanations"]


def _run_script(report: Path, shot: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), str(report), str(shot)], capture_output=True, text=True,
                          timeout=300, check=False)


def test_fake_run_report_renders_in_chromium(fake_run, tmp_path):
    if check.find_chromium() is None:
        pytest.skip("chromium not installed (apt-get install chromium, or set CHROMIUM)")
    report = write_report(fake_run)
    result = _run_script(report, tmp_path / "shot.png")
    assert result.returncode == 0, result.stderr
    assert "1 prior charts checked" in result.stdout and (tmp_path / "shot.png").stat().st_size > 0
    # A chart that lost a mark must fail in the browser, not only in the source.
    html = report.read_text(encoding="utf-8")
    start = html.index('<g class="mark"')
    report.write_text(html[:start] + html[html.index("</g>", start) + 4:], encoding="utf-8")
    broken = _run_script(report, tmp_path / "broken.png")
    assert broken.returncode == 1 and "1 marks for 2 explanations" in broken.stderr
