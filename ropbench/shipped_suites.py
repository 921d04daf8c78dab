"""The suites shipped inside the package, by name.

Its own module so that the CLI can list them in ``--help`` without importing the suite
parser (which pulls in torch through the training configuration).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["shipped_suites"]


def shipped_suites() -> dict[str, Path]:
    """Suites shipped inside the package, by name."""
    folder = resources.files("ropbench") / "suites"
    return {
        Path(item.name).stem: Path(str(item))
        for item in folder.iterdir()
        if item.name.endswith(".toml")
    }
