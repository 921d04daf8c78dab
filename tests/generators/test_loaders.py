"""Dataset loaders: the original export format and plain folders, read and written."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from ropbench.errors import RopbenchError
from ropbench.registry import get_registry
from ropbench_plugins.generators.folder_format import write_folder
from ropbench_plugins.generators.seed_format import parse_points, write_seed_format


def _load(name: str, path: Path, n: int, size: int = 32, seed: int = 0, start: int = 0):
    return get_registry().generators.get(name).generate(n=n, size=size, seed=seed, start=start, path=str(path))


def test_parse_points_accepts_numpy2_reprs_and_plain_floats() -> None:
    plain = parse_points("[(1.5, 2.0), (3.25, -4e-1)]")
    numpy2 = parse_points("[(np.float64(1.5), np.float64(2.0)), (np.float64(3.25), np.float64(-4e-1))]")
    assert np.array_equal(plain, numpy2) and plain.tolist() == [[1.5, 2.0], [3.25, -0.4]]
    assert parse_points("[]").shape == (0, 2)
    with pytest.raises(RopbenchError, match="not a list"):
        parse_points("[(1.5, oops)]", "data.csv:row 2")


def test_reads_the_original_sample(seed_sample: Path) -> None:
    batch = _load("seed-format", seed_sample, n=12, size=64)
    assert sorted(batch.labels.tolist()) == [0] * 6 + [1] * 6
    marked = batch.masks.flatten(1).any(1)
    assert torch.equal(marked, batch.labels == 1)
    # The region hugs the tortuous vessels: most of it is drawn vessel or its margin.
    rop = batch.labels == 1
    assert float((batch.vessels[rop] > 0.2)[batch.masks[rop]].float().mean()) > 0.2
    assert {m["filename"] for m in batch.metadata} == {
        f"images/{kind}/{i}.png" for kind in ("tortuous", "non_tortuous") for i in range(6)
    }


def test_splits_with_consecutive_offsets_are_disjoint(seed_sample: Path) -> None:
    parts = [_load("seed-format", seed_sample, n=4, start=s, seed=9) for s in (0, 4, 8)]
    names = [m["filename"] for part in parts for m in part.metadata]
    assert len(set(names)) == 12
    other = [m["filename"] for m in _load("seed-format", seed_sample, n=12, seed=10).metadata]
    assert other != names and sorted(other) == sorted(names)  # the seed shuffles rows


def test_errors_name_the_problem(seed_sample: Path, tmp_path: Path) -> None:
    spec = get_registry().generators.get("seed-format")
    with pytest.raises(RopbenchError, match="'path'"):
        spec.generate(n=1, size=32, seed=0)
    with pytest.raises(RopbenchError, match="has 12 images"):
        _load("seed-format", seed_sample, n=5, start=10)
    copy = tmp_path / "copy"
    shutil.copytree(seed_sample, copy)
    broken = copy / "images" / "tortuous" / "3.png"
    broken.chmod(0o644)
    broken.write_bytes(b"not a png")
    (copy / "images" / "non_tortuous" / "4.png").unlink()
    with pytest.raises(RopbenchError, match=r"tortuous/3\.png.*corrupt|non_tortuous/4\.png.*missing"):
        _load("seed-format", copy, n=12)


def test_seed_format_round_trip(tmp_path: Path) -> None:
    made = get_registry().generators.get("rw-classic").generate(n=6, size=48, seed=4)
    write_seed_format(tmp_path, [made])
    read = _load("seed-format", tmp_path, n=6, size=48)
    by_name = {m["filename"]: i for i, m in enumerate(read.metadata)}
    counts = {0: 0, 1: 0}
    for i in range(6):  # the writer numbers files per class, in index order
        label = int(made.labels[i])
        j = by_name[f"images/{'tortuous' if label else 'non_tortuous'}/{counts[label]}.png"]
        counts[label] += 1
        assert int(read.labels[j]) == label
        assert torch.equal(read.images[j], made.images[i])
        assert torch.equal(read.masks[j], made.masks[i])
        assert torch.equal(read.tortuous_vessels[j], made.tortuous_vessels[i])


def test_folder_round_trip_and_missing_annotations(tmp_path: Path) -> None:
    made = get_registry().generators.get("rw-fundus").generate(n=4, size=40, seed=6)
    write_folder(tmp_path, [made])
    read = _load("folder", tmp_path, n=4, size=40)
    rows = [m["row"] for m in read.metadata]
    assert torch.equal(read.labels, made.labels[rows])
    assert torch.equal(read.images, made.images[rows])
    assert torch.equal(read.masks, made.masks[rows])
    assert torch.allclose(read.vessels, made.vessels[rows], atol=0.5 / 255 + 1e-6)
    # A user's own images without annotations: empty masks, still loadable, resized.
    (tmp_path / "labels.csv").write_text("filename,label\nimages/000000.png,0\nimages/000001.png,1\n")
    plain = _load("folder", tmp_path, n=2, size=24)
    assert plain.images.shape == (2, 3, 24, 24) and not bool(plain.masks.any())


def test_folder_reports_bad_labels(tmp_path: Path) -> None:
    write_folder(tmp_path, [get_registry().generators.get("rw-classic").generate(n=2, size=16, seed=0)])
    (tmp_path / "labels.csv").write_text("filename,label\nimages/000000.png,maybe\n")
    with pytest.raises(RopbenchError, match="label must be 0 or 1"):
        _load("folder", tmp_path, n=1, size=16)
