"""Dataset loaders: the original export format (read as the study read it) and plain
folders, read and written, and the fingerprints that key their cache entries."""

from __future__ import annotations

import inspect
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ropbench.errors import RopbenchError
from ropbench.registry import get_registry
from ropbench_plugins.generators.folder_format import folder_fingerprint, write_folder
from ropbench_plugins.generators.seed_format import parse_points, seed_format_fingerprint, write_seed_format

FINGERPRINTS = {"seed-format": seed_format_fingerprint, "folder": folder_fingerprint}


def _load(name: str, path: Path, n: int, size: int = 32, seed: int = 0, start: int = 0, **params):
    spec = get_registry().generators.get(name)
    return spec.generate(n=n, size=size, seed=seed, start=start, path=str(path), **params)


def _seed_dataset(root: Path, images: list[np.ndarray], labels: list[int], points: list[str]) -> Path:
    """A hand-made seed-format dataset: uint8 [h, w, 3] images, labels, tortuous_points cells."""
    (root / "images").mkdir(parents=True, exist_ok=True)
    lines = ["filename\ttortuous\ttortuous_points"]
    for i, (pixels, label, cell) in enumerate(zip(images, labels, points)):
        name = f"images/{'tortuous' if label else 'non_tortuous'}/{i}.png"
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(pixels).save(root / name)
        lines.append(f"{name}\t{label}\t{cell}")
    (root / "images" / "data.csv").write_text("\n".join(lines) + "\n")
    return root


def test_parse_points_accepts_numpy2_reprs_and_plain_floats() -> None:
    plain = parse_points("[(1.5, 2.0), (3.25, 4e-1)]")
    numpy2 = parse_points("[(np.float64(1.5), np.float64(2.0)), (np.float64(3.25), np.float64(4e-1))]")
    assert np.array_equal(plain, numpy2) and plain.tolist() == [[1.5, 2.0], [3.25, 0.4]]
    assert parse_points("[]").shape == (0, 2)
    with pytest.raises(RopbenchError, match="not a list"):
        parse_points("[(1.5, oops)]", "data.csv:row 2")


def test_parse_points_accepts_the_whole_frame_and_nothing_outside() -> None:
    assert parse_points("[(0.0, 599.999)]").tolist() == [[0.0, 599.999]]
    for outside in ("(-0.001, 5.0)", "(5.0, 600.0)", "(600.5, 5.0)"):
        with pytest.raises(RopbenchError, match=r"data\.csv row 7: tortuous_points must lie in the 600-px frame"):
            parse_points(f"[(1.0, 1.0), {outside}]", "data.csv row 7")


def test_reads_the_original_sample(seed_sample: Path) -> None:
    batch = _load("seed-format", seed_sample, n=12, size=64)
    assert sorted(batch.labels.tolist()) == [0] * 6 + [1] * 6
    marked = batch.masks.flatten(1).any(1)
    assert torch.equal(marked, batch.labels == 1)
    # The region hugs the tortuous vessels: a good share of it is drawn vessel.
    rop = batch.labels == 1
    assert float((batch.vessels[rop] > 0.2)[batch.masks[rop]].float().mean()) > 0.2
    assert {m["source"] for m in batch.metadata} == {
        f"images/{kind}/{i}.png" for kind in ("tortuous", "non_tortuous") for i in range(6)
    }


def test_every_image_names_its_file_relative_to_the_dataset_root(seed_sample: Path, folder_dataset: Path) -> None:
    seed = _load("seed-format", seed_sample, n=12, size=16)
    for metadata, label in zip(seed.metadata, seed.labels.tolist()):
        # The file's class folder must agree with the label read from its row.
        assert metadata["source"].startswith("images/tortuous/" if label else "images/non_tortuous/")
        assert (seed_sample / metadata["source"]).is_file()
    folder = _load("folder", folder_dataset, n=10, size=16)
    assert sorted(m["source"] for m in folder.metadata) == [f"images/{i:06d}.png" for i in range(10)]


def test_splits_with_consecutive_offsets_are_disjoint(seed_sample: Path) -> None:
    parts = [_load("seed-format", seed_sample, n=4, start=s, seed=9) for s in (0, 4, 8)]
    names = [m["source"] for part in parts for m in part.metadata]
    assert len(set(names)) == 12
    other = [m["source"] for m in _load("seed-format", seed_sample, n=12, seed=10).metadata]
    assert other != names and sorted(other) == sorted(names)  # the seed shuffles rows


def test_errors_name_the_problem(seed_sample: Path, tmp_path: Path) -> None:
    spec = get_registry().generators.get("seed-format")
    with pytest.raises(RopbenchError, match="'path'"):
        spec.generate(n=1, size=32, seed=0)
    with pytest.raises(RopbenchError, match="has 12 images"):
        _load("seed-format", seed_sample, n=5, start=10)
    with pytest.raises(RopbenchError, match=r"'resize' must be one of 'nearest', 'bilinear'.*did you mean 'bilinear'"):
        _load("seed-format", seed_sample, n=1, resize="bilinera")
    with pytest.raises(RopbenchError, match=r"'fingerprint' must be one of 'stat', 'content'"):
        seed_format_fingerprint(str(seed_sample), fingerprint="mtime")
    copy = tmp_path / "copy"
    shutil.copytree(seed_sample, copy)
    broken = copy / "images" / "tortuous" / "3.png"
    broken.chmod(0o644)
    broken.write_bytes(b"not a png")
    (copy / "images" / "non_tortuous" / "4.png").unlink()
    with pytest.raises(RopbenchError, match=r"tortuous/3\.png.*corrupt|non_tortuous/4\.png.*missing"):
        _load("seed-format", copy, n=12)


def test_vessel_plane_is_the_red_channel_after_nearest_resizing(tmp_path: Path) -> None:
    # Red, green and blue differ, so only the red channel can give the expected plane.
    red = np.arange(16, dtype=np.uint8).reshape(4, 4) * 17  # 0, 17, ..., 255
    pixels = np.stack([red, 255 - red, np.full_like(red, 128)], axis=-1)
    root = _seed_dataset(tmp_path, [pixels], [0], ["[]"])
    for resize in ("nearest", "bilinear"):
        batch = _load("seed-format", root, n=1, size=2, resize=resize)
        # PIL's NEAREST from 4 to 2 px reads source pixel floor((i + 0.5) * 2) = 1 and 3.
        expected = torch.from_numpy(red[[1, 3]][:, [1, 3]] / 255.0).float()
        assert torch.allclose(batch.vessels[0], expected, atol=1e-7), resize


def test_nearest_resizing_is_pils_at_the_studys_244_px(tmp_path: Path) -> None:
    # 600 -> 244 px is where torch's nearest-exact and PIL's NEAREST pick different source
    # pixels; Keras (the study's loader) calls PIL, so PIL is the reference here.
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (600, 600, 3), dtype=np.uint8)
    root = _seed_dataset(tmp_path, [pixels], [0], ["[]"])
    expected = np.asarray(Image.fromarray(pixels).resize((244, 244), Image.Resampling.NEAREST))
    nearest = _load("seed-format", root, n=1, size=244)
    assert np.array_equal(nearest.images[0].permute(1, 2, 0).numpy(), expected)
    assert np.array_equal(nearest.vessels[0].numpy(), expected[..., 0] / np.float32(255.0))
    bilinear = _load("seed-format", root, n=1, size=244, resize="bilinear")
    assert not torch.equal(bilinear.images, nearest.images)
    assert torch.equal(bilinear.vessels, nearest.vessels)  # the vessel plane is always NEAREST


def test_region_is_the_studys_square_by_default_and_the_disc_on_request(tmp_path: Path) -> None:
    black = np.zeros((600, 600, 3), dtype=np.uint8)
    root = _seed_dataset(tmp_path, [black, black], [1, 1], ["[(100.7, 200.2)]", "[(3.5, 598.0)]"])
    by_source = lambda batch: {m["source"]: i for i, m in enumerate(batch.metadata)}  # noqa: E731
    square = _load("seed-format", root, n=2, size=600)
    rows = by_source(square)
    # Floored to (100, 200), the square is rows 90..110 and columns 190..210, 21 x 21.
    expected = torch.zeros(600, 600, dtype=torch.bool)
    expected[90:111, 190:211] = True
    assert torch.equal(square.masks[rows["images/tortuous/0.png"]], expected)
    # (3, 598): clipped at the top and the right edge, rows 0..13 and columns 588..599.
    corner = torch.zeros(600, 600, dtype=torch.bool)
    corner[0:14, 588:600] = True
    assert torch.equal(square.masks[rows["images/tortuous/1.png"]], corner)
    disc = _load("seed-format", root, n=2, size=600, region_shape="disc")
    region = disc.masks[by_source(disc)["images/tortuous/0.png"]]
    # The disc is centred on the rounded point (101, 200) with radius 10: (111, 200) is in,
    # the square's corner (108, 208) is 11.3 px away and out.
    assert bool(region[111, 200]) and not bool(region[112, 200]) and not bool(region[108, 208])
    assert int(region.sum()) < int(expected.sum())


def test_square_region_is_resized_with_pils_default_filter(tmp_path: Path) -> None:
    black = np.zeros((600, 600, 3), dtype=np.uint8)
    root = _seed_dataset(tmp_path, [black], [1], ["[(300.2, 300.9)]"])
    batch = _load("seed-format", root, n=1, size=244)
    # The study: a 600 x 600 0/1 image with the square, then PIL's resize without a filter.
    frame = np.zeros((600, 600), dtype=np.uint8)
    frame[290:311, 290:311] = 1
    expected = np.asarray(Image.fromarray(frame).resize((244, 244))) >= 1
    assert np.array_equal(batch.masks[0].numpy(), expected)
    assert 8 * 8 <= int(batch.masks[0].sum()) <= 10 * 10  # 21 px * 244/600 = 8.5 px a side


def test_seed_format_round_trip(tmp_path: Path) -> None:
    made = get_registry().generators.get("rw-classic").generate(n=6, size=48, seed=4)
    write_seed_format(tmp_path, [made])
    # The writer records tortuous-vessel pixels; the disc rule rebuilds the region exactly.
    read = _load("seed-format", tmp_path, n=6, size=48, resize="bilinear", region_shape="disc")
    by_name = {m["source"]: i for i, m in enumerate(read.metadata)}
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


def test_folder_resizes_bilinear_by_default_and_nearest_on_request(folder_dataset: Path) -> None:
    source = np.asarray(Image.open(folder_dataset / "images" / "000000.png").convert("RGB"))
    expected = np.asarray(Image.fromarray(source).resize((24, 24), Image.Resampling.NEAREST))
    by_row = lambda batch: batch.images[[m["row"] for m in batch.metadata].index(0)]  # noqa: E731
    nearest = by_row(_load("folder", folder_dataset, n=10, size=24, resize="nearest"))
    assert np.array_equal(nearest.permute(1, 2, 0).numpy(), expected)
    assert not torch.equal(by_row(_load("folder", folder_dataset, n=10, size=24)), nearest)


def test_folder_reports_bad_labels(tmp_path: Path) -> None:
    write_folder(tmp_path, [get_registry().generators.get("rw-classic").generate(n=2, size=16, seed=0)])
    (tmp_path / "labels.csv").write_text("filename,label\nimages/000000.png,maybe\n")
    expected = r"labels\.csv' row 2: label must be 0 \(healthy\) or 1 \(ROP\), got 'maybe'"
    with pytest.raises(RopbenchError, match=expected):
        _load("folder", tmp_path, n=1, size=16)


@pytest.mark.parametrize("loader", sorted(FINGERPRINTS))
def test_fingerprint_follows_the_files_not_their_names(loader: str, seed_sample: Path, folder_dataset: Path,
                                                       tmp_path: Path) -> None:
    original = seed_sample if loader == "seed-format" else folder_dataset
    root = tmp_path / "data"
    shutil.copytree(original, root)
    image = root / ("images/tortuous/2.png" if loader == "seed-format" else "images/000002.png")
    fingerprint = lambda mode: FINGERPRINTS[loader](path=str(root), fingerprint=mode)  # noqa: E731
    stat, content = fingerprint("stat"), fingerprint("content")
    assert stat.startswith("stat:") and content.startswith("content:") and stat != content
    assert fingerprint("stat") == stat  # nothing changed, nothing moves

    status = image.stat()
    os.utime(image, ns=(status.st_atime_ns, status.st_mtime_ns + 1_000_000_000))  # touched, same bytes
    assert fingerprint("stat") != stat and fingerprint("content") == content

    # Same size and mtime but other bytes: only the content fingerprint sees it (the
    # documented price of the fast default).
    status = image.stat()
    data = bytearray(image.read_bytes())
    data[-5] ^= 0xFF
    image.write_bytes(bytes(data))
    os.utime(image, ns=(status.st_atime_ns, status.st_mtime_ns))
    touched_stat = fingerprint("stat")
    assert fingerprint("content") != content
    assert touched_stat == FINGERPRINTS[loader](path=str(root))  # stat is the default

    # A missing image is recorded, not raised: reading its row reports it.
    image.unlink()
    assert fingerprint("stat") != touched_stat


def test_fingerprint_takes_every_loader_parameter() -> None:
    # The planner calls spec.fingerprint(**params) with the loader's whole parameter table.
    for name, fingerprint in FINGERPRINTS.items():
        loader = inspect.signature(get_registry().generators.get(name).generate).parameters
        assert set(loader) - {"n", "size", "seed", "start"} == set(inspect.signature(fingerprint).parameters), name
