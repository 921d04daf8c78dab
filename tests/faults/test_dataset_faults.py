"""Fault-trial cases (reviews/fault-trial-afebf7a.md) for the dataset loaders, by case ID.

Each broken dataset must give a DatasetError naming the file, the row (its line in the
file, the header being row 1) and what was expected; never a silently wrong batch.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
from PIL import Image

from ropbench.registry import get_registry
from ropbench_plugins.generators.datasets import DatasetError
from ropbench_plugins.generators.folder_format import folder_fingerprint, write_folder
from ropbench_plugins.generators.seed_format import seed_format_fingerprint

SEED_SAMPLE = Path(__file__).resolve().parent.parent / "fixtures" / "seed-format-sample"
FINGERPRINTS = {"seed-format": seed_format_fingerprint, "folder": folder_fingerprint}


def _load(name: str, path: Path | str, n: int, size: int = 16, **params):
    return get_registry().generators.get(name).generate(n=n, size=size, seed=0, path=str(path), **params)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A folder dataset of 8 rw-classic images (rows 2..9 of labels.csv)."""
    root = tmp_path / "folder"
    write_folder(root, [get_registry().generators.get("rw-classic").generate(n=8, size=16, seed=0)])
    return root


@pytest.fixture
def seed(tmp_path: Path) -> Path:
    """A writable copy of the original generator's 12-image sample."""
    root = tmp_path / "seed"
    shutil.copytree(SEED_SAMPLE, root)
    for path in root.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return root


def _edit_seed_row(root: Path, row: int, tortuous: str | None = None, points: str | None = None) -> Path:
    """Set the ``tortuous`` and/or ``tortuous_points`` cell of CSV line ``row``; returns the CSV."""
    csv_path = root / "images" / "data.csv"
    lines = csv_path.read_text().split("\n")
    filename, label, cell = lines[row - 1].split("\t")
    lines[row - 1] = "\t".join([filename, tortuous if tortuous is not None else label,
                                points if points is not None else cell])
    csv_path.write_text("\n".join(lines))
    return csv_path


def _first_rop_row(root: Path) -> int:
    lines = (root / "images" / "data.csv").read_text().split("\n")
    return next(i + 1 for i, line in enumerate(lines) if line.split("\t")[1:2] == ["1"])


def test_D01_D04_a_missing_or_misfit_file_is_named_with_the_row_that_lists_it(folder: Path) -> None:
    (folder / "images" / "000003.png").unlink()  # listed on row 5
    with pytest.raises(DatasetError, match=r"labels\.csv' row 5: image file '.*images/000003\.png' is missing"):
        _load("folder", folder, n=8)
    folder_fingerprint(str(folder))  # planning still works: the data stage reports the file
    write_folder(folder, [get_registry().generators.get("rw-classic").generate(n=8, size=16, seed=0)])
    Image.fromarray(torch.zeros(8, 8, dtype=torch.uint8).numpy()).save(folder / "masks" / "000006.png")
    misfit = r"labels\.csv' row 8: '.*masks/000006\.png' is \(8, 8\), its image is \(16, 16\)"
    with pytest.raises(DatasetError, match=misfit):
        _load("folder", folder, n=8)


def test_D10_ragged_row_names_the_file_and_row(folder: Path, seed: Path) -> None:
    labels = folder / "labels.csv"
    lines = labels.read_text().split("\n")
    lines[7] = "images/000006.png"  # row 8 (the header is row 1): one cell of five
    labels.write_text("\n".join(lines))
    expected = r"labels\.csv' row 8: expected 5 cells \(filename, label, mask, tortuous_vessels, vessels\), got 1"
    with pytest.raises(DatasetError, match=expected):
        _load("folder", folder, n=8)
    with pytest.raises(DatasetError, match=expected):  # already when the run is planned
        folder_fingerprint(str(folder))
    csv_path = seed / "images" / "data.csv"
    lines = csv_path.read_text().split("\n")
    lines[3] = lines[3] + "\textra"  # row 4: four cells of three
    csv_path.write_text("\n".join(lines))
    with pytest.raises(DatasetError, match=r"data\.csv' row 4: expected 3 cells .* got 4"):
        _load("seed-format", seed, n=12)


def test_D11_excel_csv_with_bom_and_crlf_reads_like_the_plain_one(folder: Path, seed: Path) -> None:
    plain = _load("folder", folder, n=8)
    labels = folder / "labels.csv"
    labels.write_bytes(b"\xef\xbb\xbf" + labels.read_bytes().replace(b"\n", b"\r\n"))
    excel = _load("folder", folder, n=8)
    assert torch.equal(excel.images, plain.images) and torch.equal(excel.labels, plain.labels)
    assert torch.equal(excel.masks, plain.masks)
    plain_seed = _load("seed-format", seed, n=12)
    csv_path = seed / "images" / "data.csv"
    csv_path.write_bytes(b"\xef\xbb\xbf" + csv_path.read_bytes())
    bom_seed = _load("seed-format", seed, n=12)
    assert torch.equal(bom_seed.labels, plain_seed.labels) and torch.equal(bom_seed.masks, plain_seed.masks)


def test_D15_tortuous_points_outside_the_frame_are_an_error_not_a_corner_blob(seed: Path) -> None:
    row = _first_rop_row(seed)
    _edit_seed_row(seed, row, points="[(-5000.0, 99999.0), (1e9, -1e9)]")
    with pytest.raises(DatasetError, match=rf"data\.csv' row {row}: tortuous_points must lie in the 600-px frame "
                                           r"\[0, 600\); 2 of 2 do not, the first \(-5000\.0, 99999\.0\)"):
        _load("seed-format", seed, n=12)


def test_D16_comma_separated_seed_csv_says_it_should_be_tab_separated(seed: Path) -> None:
    csv_path = seed / "images" / "data.csv"
    csv_path.write_text("filename,tortuous,tortuous_points\nimages/tortuous/0.png,1,[]\n")
    with pytest.raises(DatasetError, match=r"lacks column\(s\) \['filename', 'tortuous'\].*tab-separated"):
        _load("seed-format", seed, n=1)


@pytest.mark.parametrize(("case", "cell"), [("D17", "2"), ("D18", "0.9"), ("D19", "inf")])
def test_D17_D18_D19_seed_format_tortuous_must_be_0_or_1(seed: Path, case: str, cell: str) -> None:
    # D17: 2 trained on a third class; D18: 0.9 was truncated to 0 (ROP relabelled
    # healthy, silently); D19: inf raised a bare OverflowError. Each must name the row.
    row = _first_rop_row(seed)
    _edit_seed_row(seed, row, tortuous=cell)
    expected = rf"data\.csv' row {row}: tortuous must be 0 \(healthy\) or 1 \(ROP\), got '{cell}'"
    with pytest.raises(DatasetError, match=expected):
        _load("seed-format", seed, n=12)
    with pytest.raises(DatasetError, match=expected):
        seed_format_fingerprint(str(seed))


@pytest.mark.parametrize("cell", ["2", "yes", "-1", "1.5", "", "nan"])
def test_P06_dataset_labels_other_than_0_or_1_are_refused(folder: Path, seed: Path, cell: str) -> None:
    # The plugin trial's labels 0/3 reached training as "Target 3 is out of bounds"; a
    # dataset's labels are checked where they are read. (A generator plugin's labels are
    # the data stage's to check.)
    labels = folder / "labels.csv"
    lines = labels.read_text().split("\n")
    cells = lines[4].split(",")
    lines[4] = ",".join([cells[0], cell, *cells[2:]])
    labels.write_text("\n".join(lines))
    expected = rf"labels\.csv' row 5: label must be 0 \(healthy\) or 1 \(ROP\), got '{cell}'"
    with pytest.raises(DatasetError, match=expected):
        _load("folder", folder, n=8)
    row = _first_rop_row(seed)
    _edit_seed_row(seed, row, tortuous=cell)
    with pytest.raises(DatasetError, match=rf"data\.csv' row {row}: tortuous must be 0"):
        _load("seed-format", seed, n=12)


@pytest.mark.parametrize("loader", sorted(FINGERPRINTS))
def test_D20_editing_the_files_changes_the_fingerprint(loader: str, folder: Path, seed: Path) -> None:
    root = seed if loader == "seed-format" else folder
    before = {mode: FINGERPRINTS[loader](path=str(root), fingerprint=mode) for mode in ("stat", "content")}
    # As in the trial: the images replaced by those of another dataset.
    other = get_registry().generators.get("rw-classic").generate(n=8, size=16, seed=7)
    image = root / ("images/tortuous/0.png" if loader == "seed-format" else "images/000001.png")
    Image.fromarray(other.images[1].permute(1, 2, 0).numpy()).save(image)
    for mode, fingerprint in before.items():
        assert FINGERPRINTS[loader](path=str(root), fingerprint=mode) != fingerprint, mode
    # Editing only the table (a relabelled row) changes it too.
    table = root / ("images/data.csv" if loader == "seed-format" else "labels.csv")
    edited = FINGERPRINTS[loader](path=str(root), fingerprint="content")
    table.write_text(table.read_text().replace("\t1\t", "\t0\t", 1) if loader == "seed-format"
                     else table.read_text().replace(",1,", ",0,", 1))
    assert FINGERPRINTS[loader](path=str(root), fingerprint="content") != edited


@pytest.mark.parametrize("loader", sorted(FINGERPRINTS))
def test_D21_a_relative_path_means_the_files_under_the_current_directory(
        loader: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    made = {seed: get_registry().generators.get("rw-classic").generate(n=4, size=16, seed=seed) for seed in (0, 7)}
    for place, seed in (("a", 0), ("b", 7)):
        root = tmp_path / place / "ds" / "rel"
        if loader == "folder":
            write_folder(root, [made[seed]])
        else:
            from ropbench_plugins.generators.seed_format import write_seed_format

            write_seed_format(root, [made[seed]])
    prints, images = {}, {}
    for place in ("a", "b"):
        monkeypatch.chdir(tmp_path / place)
        prints[place] = FINGERPRINTS[loader](path="ds/rel")
        assert prints[place] == FINGERPRINTS[loader](path=str(tmp_path / place / "ds" / "rel"))
        images[place] = _load(loader, "ds/rel", n=4).images
    assert prints["a"] != prints["b"]
    assert not torch.equal(images["a"], images["b"])
