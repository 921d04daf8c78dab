"""The HTML report: self-contained, complete, honest about what it could not draw."""

from __future__ import annotations

import base64
import io
import re
import shutil

from PIL import Image

from ropbench.cli.main import main
from ropbench.pluginmanager import NO_AUTOLOAD_ENV
from ropbench.registry import Registry
from ropbench.report import load_run, render_report, write_report
from ropbench.report.pictures import DISPLAY_SIZE
from tests.report.fake_run import CELLS, GENERATOR, precision_value


def _images(html: str) -> list[str]:
    return re.findall(r'<img src="([^"]+)"', html)


def test_report_is_self_contained(fake_run):
    html = write_report(fake_run).read_text(encoding="utf-8")
    assert (fake_run / "report.html").is_file()
    # Nothing is fetched: no external src/href, no stylesheet link, no external script.
    assert not re.search(r'(src|href)="(?!data:|#)', html)
    assert "<link" not in html and "<script src" not in html
    sources = _images(html)
    assert sources and all(s.startswith("data:image/png;base64,") for s in sources)
    for source in sources:
        picture = Image.open(io.BytesIO(base64.b64decode(source.split(",", 1)[1])))
        assert picture.format == "PNG" and picture.size == (DISPLAY_SIZE, DISPLAY_SIZE)


def test_gallery_uses_the_same_first_shared_images_for_every_pair(fake_run):
    run = load_run(fake_run)
    html = render_report(run)
    gallery = html.split('id="gallery"')[1].split('id="confusion"')[0]
    # Seed 0 is shown; the ViT explained only 3, 5, 7, so every row uses those.
    assert f"{GENERATOR} (seed 0)" in gallery
    assert re.findall(r"<th scope=\"col\">test image (\d+)</th>", gallery) == ["3", "5", "7"]
    rows = re.findall(r'<tr><th scope="row">([^<]+)</th>(.*?)</tr>', gallery)
    labels = [label for label, _ in rows]
    assert labels == ["image", "ground truth"] + [f"{a} / {e}" for a, e in CELLS]
    assert all(len(_images(cells)) == 3 for _, cells in rows)
    # Different explainers give different pictures of the same image.
    assert len({_images(cells)[0] for _, cells in rows}) == len(rows)


def test_leaderboard_study_table_and_curves_present(fake_run):
    html = render_report(load_run(fake_run))
    assert "Classification (test set)" in html and "accuracy ↑ (chance 0.500)" in html
    # Original study format: percent, mean ± std over the two seeds (0.02 apart).
    mean = 100 * (precision_value("seed-cnn", "gradcam", 0, 90) + precision_value("seed-cnn", "gradcam", 1, 90)) / 2
    assert f"{GENERATOR} / seed-cnn / gradcam" in html
    assert f"{mean:.2f} ± 1.41 / " in html
    curves = html.split('id="curves"')[1].split('id="gallery"')[0]
    assert curves.count("<svg") == 2 and curves.count("<polyline") == 2 * (len(CELLS) + 1)
    assert "chance (random heatmap)" in curves


def test_confusion_matrices_summed_over_seeds(fake_run):
    html = render_report(load_run(fake_run))
    section = html.split('id="confusion"')[1]
    cnn = section.split(f"{GENERATOR} / seed-cnn (seeds 0, 1; 16 images)")[1].split("</table>")[0]
    # Per seed: healthy 3 right + 1 called ROP; ROP 3 right + 1 called healthy.
    assert re.findall(r'<td class="\w+">(\d+)</td>', cnn) == ["6", "2", "2", "6"]
    vit = section.split(f"{GENERATOR} / vit_tiny_patch16 (seeds 0, 1; 16 images)")[1].split("</table>")[0]
    assert re.findall(r'<td class="\w+">(\d+)</td>', vit) == ["0", "8", "0", "8"]


def test_missing_cache_still_renders_tables_and_names_the_directory(fake_run):
    cache = fake_run.parent / "cache"
    shutil.rmtree(cache)
    html = render_report(load_run(fake_run))
    assert "Gallery unavailable" in html and str(cache) in html
    assert "Confusion matrices unavailable" in html
    assert "Classification (test set)" in html and "Original study format" in html
    assert not _images(html)


def test_missing_heatmap_entry_marks_only_its_row(fake_run):
    run = load_run(fake_run)
    gone = next(c for c in run.explain_cells if c.explainer == "random" and c.seed == 0)
    (fake_run.parent / "cache" / "heatmaps" / gone.heatmap_key[:2] / f"{gone.heatmap_key}.pt").unlink()
    gallery = render_report(run).split('id="gallery"')[1].split('id="confusion"')[0]
    assert "unavailable: cache entry" in gallery and gone.heatmap_key in gallery
    assert len(_images(gallery)) == 3 * (2 + len(CELLS) - 1)


def test_report_is_deterministic(fake_run):
    run = load_run(fake_run)
    assert render_report(run) == render_report(load_run(fake_run))


def test_cli_writes_to_out_and_html_reporter_is_registered(fake_run, tmp_path, capsys, monkeypatch):
    out = tmp_path / "elsewhere" / "page.html"
    assert main(["report", str(fake_run), "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    # Only the reporters plugin: loading every built-in (timm, captum) would dominate the test.
    monkeypatch.setenv(NO_AUTOLOAD_ENV, "1")
    reporter = Registry.load(builtins=("ropbench_plugins.reporters",)).reporters.get("html")
    (fake_run / "report.html").unlink(missing_ok=True)
    assert reporter.write(fake_run, None, {}) == [fake_run / "report.html"]


def test_cli_rejects_a_directory_without_results(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert "not a run directory" in capsys.readouterr().err
