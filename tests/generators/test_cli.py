"""``ropbench generate``: streamed output, progress, contact sheet, readable by the loaders."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from ropbench.cli.main import main
from ropbench.registry import get_registry


def test_generate_seed_format_reads_back_identically(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "classic"
    code = main(["generate", "rw-classic", "--n", "10", "--size", "32", "--seed", "3", "--out", str(out), "--chunk", "4"])
    assert code == 0
    err = capsys.readouterr().err
    assert "10/10 images" in err and "contact sheet" in err
    assert (out / "contact_sheet.png").stat().st_size > 0
    manifest = json.loads((out / "generator.json").read_text())
    assert manifest["generator"] == "rw-classic" and manifest["n"] == 10
    records = [json.loads(line) for line in (out / "metadata.jsonl").read_text().splitlines()]
    assert [r["index"] for r in records] == list(range(10))
    made = get_registry().generators.get("rw-classic").generate(n=10, size=32, seed=3)
    read = get_registry().generators.get("seed-format").generate(
        n=10, size=32, seed=0, path=str(out), region_shape="disc"  # the writer round-trips the disc rule
    )
    assert sorted(read.labels.tolist()) == sorted(made.labels.tolist())
    assert int(read.masks.sum()) == int(made.masks.sum())


def test_generate_folder_with_params(tmp_path: Path) -> None:
    out = tmp_path / "graded"
    assert main(["generate", "rw-graded", "--n", "4", "--size", "24", "--out", str(out), "--format", "folder",
                 "--param", "severity=0.5", "--sheet", "0"]) == 0
    assert (out / "labels.csv").read_text().count("\n") == 5
    assert not (out / "contact_sheet.png").exists()
    assert json.loads((out / "generator.json").read_text())["params"]["severity"] == 0.5


def test_generate_rejects_unknown_params_and_names(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["generate", "rw-classic", "--n", "2", "--out", str(tmp_path), "--param", "bogus=1"]) == 2
    assert "bogus" in capsys.readouterr().err
    assert main(["generate", "rw-clasic", "--n", "2", "--out", str(tmp_path)]) == 2
    assert "did you mean 'rw-classic'" in capsys.readouterr().err


def test_contact_sheet_outlines_the_region() -> None:
    from ropbench.contact_sheet import contact_sheet, overlay_ground_truth

    batch = get_registry().generators.get("rw-classic").generate(n=4, size=40, seed=1)
    overlaid = overlay_ground_truth(batch)
    red = (overlaid[:, 0] == 255) & (overlaid[:, 1] == 40)
    assert not bool(red[0].any()) and bool(red[1].any())  # outlines only where there is a region
    assert bool((red & ~batch.masks).sum() == 0)
    sheet = contact_sheet(batch, columns=2, tile=50)
    assert sheet.size == (2 * 52, 2 * (50 + 14 + 2))
    assert torch.is_tensor(overlaid) and overlaid.dtype == torch.uint8


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("fmt", ["seed", "folder"])
def test_output_is_byte_identical_for_any_worker_count(tmp_path: Path, fmt: str) -> None:
    outputs = []
    for workers, chunk in ((1, 3), (2, 4)):
        out = tmp_path / f"{fmt}-{workers}"
        assert main(["generate", "rw-classic", "--n", "13", "--size", "40", "--seed", "5", "--start", "1",
                     "--out", str(out), "--format", fmt, "--workers", str(workers), "--chunk", str(chunk),
                     "--sheet", "5", "--param", "pairing=twins"]) == 0
        outputs.append(_files(out))
    assert outputs[0] == outputs[1]
    assert "contact_sheet.png" in outputs[0]


def test_seed_format_pngs_hold_the_generated_pixels(tmp_path: Path) -> None:
    import numpy as np
    from PIL import Image

    out = tmp_path / "pixels"
    assert main(["generate", "rw-fundus", "--n", "4", "--size", "48", "--out", str(out), "--workers", "1"]) == 0
    made = get_registry().generators.get("rw-fundus").generate(n=4, size=48, seed=0)
    # Image 2k is non_tortuous/k.png and image 2k+1 tortuous/k.png (classes alternate from 0).
    for index in range(4):
        name = f"{'tortuous' if index % 2 else 'non_tortuous'}/{index // 2}.png"
        pixels = np.asarray(Image.open(out / "images" / name).convert("RGB"))
        assert np.array_equal(pixels, made.images[index].permute(1, 2, 0).numpy()), name


def test_workers_must_be_positive(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["generate", "rw-classic", "--n", "2", "--out", str(tmp_path), "--workers", "0"]) == 2
    assert "--workers must be >= 1" in capsys.readouterr().err
