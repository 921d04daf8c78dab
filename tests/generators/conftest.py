"""Shared data for the generator tests: the original generator's sample export."""

from __future__ import annotations

from pathlib import Path

import pytest

# A copy of the original generator's own export (12 images), so the loader is always
# tested against real files in that format.
SEED_SAMPLE = Path(__file__).resolve().parent.parent / "fixtures" / "seed-format-sample"


@pytest.fixture(scope="session")
def seed_sample() -> Path:
    assert (SEED_SAMPLE / "images" / "data.csv").is_file(), f"missing test fixture {SEED_SAMPLE}"
    return SEED_SAMPLE


@pytest.fixture(scope="session")
def folder_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small folder-format dataset written from rw-classic."""
    from ropbench.registry import get_registry
    from ropbench_plugins.generators.folder_format import write_folder

    root = tmp_path_factory.mktemp("folder-dataset")
    batch = get_registry().generators.get("rw-classic").generate(n=10, size=40, seed=3)
    write_folder(root, [batch])
    return root
