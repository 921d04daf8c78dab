"""Report fixtures: a hand-made run directory with a real (tiny) cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.report.fake_run import make_fake_run


@pytest.fixture
def fake_run(tmp_path: Path) -> Path:
    """The run directory; its cache is ``fake_run.parent / "cache"``."""
    return make_fake_run(tmp_path)
