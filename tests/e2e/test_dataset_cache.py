"""Datasets on disk are keyed by their contents (fault-trial D20, D21): an edited image,
or the same relative path read from another folder, is read again, never served stale."""

from __future__ import annotations

import json
import os
import shutil
import textwrap
from pathlib import Path

from PIL import Image

from ropbench.registry import Registry
from ropbench.runner import run_suite
from ropbench.suite import load_suite
from tests.e2e.conftest import seed_format_suite

SAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "seed-format-sample"


def _run(suite_text: str, tmp: Path, cache: Path, name: str) -> dict[str, str]:
    suite = tmp / f"{name}.toml"
    suite.write_text(textwrap.dedent(suite_text))
    registry = Registry.load()
    outcome = run_suite(load_suite(str(suite), registry), registry, cache_dir=cache, run_dir=tmp / name,
                        verbose=False)
    assert outcome.ok, [f.error for f in outcome.failures]
    manifest = json.loads((tmp / name / "manifest.json").read_text())
    return {t["stage"]: t["status"] for t in manifest["tasks"] if t["stage"] in ("data", "train", "explain")}


def _edit_one_image(dataset: Path) -> None:
    image = dataset / "images" / "tortuous" / "0.png"
    pixels = Image.open(image).convert("RGB")
    pixels.putpixel((300, 300), (255, 255, 255) if pixels.getpixel((300, 300))[0] < 128 else (0, 0, 0))
    pixels.save(image)


def test_editing_one_image_recomputes_data_train_and_explain(tmp_path):
    dataset = tmp_path / "dataset"
    shutil.copytree(SAMPLE, dataset)
    suite = seed_format_suite(dataset, image_size=32, metrics=["accuracy", "relevance-mass"], counts=(6, 2, 4))
    cache = tmp_path / "cache"
    assert set(_run(suite, tmp_path, cache, "first").values()) == {"done"}
    assert set(_run(suite, tmp_path, cache, "again").values()) == {"cached"}
    _edit_one_image(dataset)
    assert _run(suite, tmp_path, cache, "edited") == {"data": "done", "train": "done", "explain": "done"}


def test_a_relative_path_from_another_folder_is_another_dataset(tmp_path, monkeypatch):
    for folder in ("one", "two"):
        shutil.copytree(SAMPLE, tmp_path / folder / "dataset")
    _edit_one_image(tmp_path / "two" / "dataset")
    suite = seed_format_suite("dataset", image_size=32, metrics=["accuracy", "relevance-mass"], counts=(6, 2, 4))
    cache = tmp_path / "cache"
    monkeypatch.chdir(tmp_path / "one")
    assert set(_run(suite, tmp_path, cache, "from-one").values()) == {"done"}
    monkeypatch.chdir(tmp_path / "two")
    assert _run(suite, tmp_path, cache, "from-two")["data"] == "done"
    assert os.getcwd() == str(tmp_path / "two")
