"""The README's excerpt of the quick leaderboard, cut from the committed board.

    python scripts/readme_excerpt.py            # print the excerpt
    python scripts/readme_excerpt.py --write    # put it between the README's markers

The excerpt is the classification table and the headline localization table ("beyond
the vessel prior") of every generator in ``leaderboards/quick.md``, verbatim, so the
README cannot show a number the committed board does not (``tests/test_readme.py``).
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BOARD = ROOT / "leaderboards" / "quick.md"
README = ROOT / "README.md"
START, END = "<!-- quick-excerpt:start -->", "<!-- quick-excerpt:end -->"
SECTIONS = ("### Classification", "### Localization beyond the vessel prior")


def excerpt(board: str) -> str:
    """Each generator's heading and its two headline tables, as markdown."""
    parts: list[str] = []
    for generator in re.split(r"\n(?=## )", board):
        heading = generator.splitlines()[0]
        if not heading.startswith("## ") or heading.startswith("## Percentile") or heading.startswith("## Original"):
            continue
        parts.append(f"**{heading[3:].strip()}**\n")
        for section in re.split(r"\n(?=### )", generator):
            if section.startswith(SECTIONS):
                lines = section.strip().splitlines()
                parts.append("\n".join(["*" + lines[0][4:].strip() + "*", *lines[1:]]).strip() + "\n")
    return "\n".join(parts).strip() + "\n"


def current_block(readme: str) -> str:
    start, end = readme.index(START) + len(START), readme.index(END)
    return readme[start:end].strip() + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="replace the README's excerpt")
    args = parser.parse_args()
    text = excerpt(BOARD.read_text(encoding="utf-8"))
    if not args.write:
        print(text, end="")
        return
    readme = README.read_text(encoding="utf-8")
    start, end = readme.index(START) + len(START), readme.index(END)
    README.write_text(readme[:start] + "\n\n" + text + "\n" + readme[end:], encoding="utf-8")


if __name__ == "__main__":
    main()
