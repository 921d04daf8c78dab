"""The DOM checks of scripts/check_report_in_browser.py (the browser itself runs in tox -e report)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "check_report_in_browser.py"
spec = importlib.util.spec_from_file_location("check_report_in_browser", SCRIPT)
check = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check)


def _dom(status: str, loaded: int, total: int, tables: int, extra: str = "") -> str:
    return (f'<html><head></head><body data-images-status="{status}" data-images-total="{total}" '
            f'data-images-loaded="{loaded}" data-tables-rendered="{tables}">{extra}</body></html>')


def test_all_loaded_page_passes():
    assert check.check_dom(_dom("all-loaded", 4, 4, 3), expected_images=4) == []


def test_broken_missing_or_unrun_pages_fail():
    assert "1 of 2 pictures" in check.check_dom(_dom("broken", 1, 2, 3), 2)[0]
    assert check.check_dom(_dom("all-loaded", 2, 2, 3), 3)  # an <img> never made it into the DOM
    assert check.check_dom(_dom("all-loaded", 2, 2, 0), 2)  # no table rendered
    assert check.check_dom("<html><body data-images-status=\"pending\"></body></html>", 0)  # script never ran
    unavailable = _dom("all-loaded", 0, 0, 2, '<p class="warning gallery-unavailable">x</p>')
    assert any("gallery is unavailable" in p for p in check.check_dom(unavailable, 0))
