#!/usr/bin/env python3
"""Load a ropbench HTML report in headless chromium, prove it rendered, save a screenshot.

    python scripts/check_report_in_browser.py REPORT.html SCREENSHOT.png

The report carries a small inline script that, on the window's ``load`` event, writes on
``<body>`` how many pictures decoded (``img.complete && img.naturalWidth > 0``) and how
many tables have rows and a visible height, and checks the first picture: every prior
chart (one per generator with a headline metric) must draw one visible mark per
explanation scored in its generator's headline table, and its reference lines.
Chromium's ``--dump-dom`` prints the DOM after scripts ran, so this check reads those
attributes rather than trusting the HTML source. ``--virtual-time-budget`` lets the
page finish loading before the dump.

Exit codes: 0 rendered; 1 something did not render; 2 chromium missing or failed.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")
# Isolated, quiet, offline-friendly: no profile reuse, no background traffic.
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--virtual-time-budget=10000",
)
TIMEOUT_SECONDS = 120


def find_chromium() -> str | None:
    for candidate in (os.environ.get("CHROMIUM"), *CHROMIUM_CANDIDATES):
        if candidate and shutil.which(candidate):
            return shutil.which(candidate)
    return None


def run_chromium(chromium: str, profile: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    command = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *arguments]
    return subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False)


def body_attributes(dom: str) -> dict[str, str]:
    """The attributes of the dumped DOM's ``<body>`` tag."""
    match = re.search(r"<body\b([^>]*)>", dom)
    if not match:
        return {}
    return dict(re.findall(r'([\w-]+)="([^"]*)"', match.group(1)))


def check_dom(dom: str, expected_images: int, expected_charts: int = 0) -> list[str]:
    """Problems found in the rendered DOM; empty when the page rendered completely.

    ``expected_charts``: the prior charts in the page's source (one per generator with a
    headline metric)."""
    problems = []
    attributes = body_attributes(dom)
    status = attributes.get("data-images-status", "missing")
    total = int(attributes.get("data-images-total", "-1"))
    loaded = int(attributes.get("data-images-loaded", "-1"))
    tables = int(attributes.get("data-tables-rendered", "0"))
    charts = int(attributes.get("data-charts", "-1"))
    if status != "all-loaded":
        problems.append(f"images status {status!r}: {loaded} of {total} pictures decoded")
    if total != expected_images:
        problems.append(f"the page has {total} pictures but its source has {expected_images} <img> tags")
    if tables < 1:
        problems.append("no table rendered with rows and a visible height")
    if charts != expected_charts:
        problems.append(f"the page drew {charts} prior charts but its source has {expected_charts}")
    if attributes.get("data-chart-problems"):
        problems.append(f"prior chart: {attributes['data-chart-problems']}")
    if "gallery-unavailable" in dom:
        problems.append("the report says its gallery is unavailable (cache missing)")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("report", type=Path)
    parser.add_argument("screenshot", type=Path)
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=3000)
    parser.add_argument("--allow-missing-gallery", action="store_true",
                        help="accept a report whose gallery is unavailable")
    args = parser.parse_args(argv)

    chromium = find_chromium()
    if chromium is None:
        print("chromium not found (apt-get install chromium, or set CHROMIUM)", file=sys.stderr)
        return 2
    if not args.report.is_file():
        print(f"{args.report} not found", file=sys.stderr)
        return 2
    url = args.report.resolve().as_uri()
    source = args.report.read_text(encoding="utf-8")
    expected_images = len(re.findall(r"<img\b", source))
    expected_charts = len(re.findall(r'<svg\b[^>]*class="chart prior-chart"', source))
    args.screenshot.parent.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory(prefix="ropbench-chromium-") as profile:
        dumped = run_chromium(chromium, Path(profile) / "dom", "--dump-dom", url)
        if dumped.returncode != 0 or "<body" not in dumped.stdout:
            print(f"chromium --dump-dom failed ({dumped.returncode}):\n{dumped.stderr[-2000:]}", file=sys.stderr)
            return 2
        shot = run_chromium(chromium, Path(profile) / "shot", f"--screenshot={args.screenshot.resolve()}",
                            f"--window-size={args.width},{args.height}", url)
        if shot.returncode != 0 or not args.screenshot.is_file():
            print(f"chromium --screenshot failed ({shot.returncode}):\n{shot.stderr[-2000:]}", file=sys.stderr)
            return 2

    problems = check_dom(dumped.stdout, expected_images, expected_charts)
    if args.allow_missing_gallery:
        problems = [p for p in problems if "gallery is unavailable" not in p]
    attributes = body_attributes(dumped.stdout)
    print(f"{args.report}: {attributes.get('data-images-loaded', '?')} of {attributes.get('data-images-total', '?')} "
          f"pictures decoded, {attributes.get('data-tables-rendered', '?')} tables rendered, "
          f"{attributes.get('data-charts', '?')} prior charts checked; "
          f"screenshot {args.screenshot}")
    for problem in problems:
        print(f"FAIL: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
