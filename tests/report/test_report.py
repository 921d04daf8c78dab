"""The HTML report: one picture first, boards with controls apart, self-contained, honest
about what it could not draw."""

from __future__ import annotations

import base64
import io
import json
import re
import shutil

from PIL import Image

from ropbench.cli.main import main
from ropbench.pluginmanager import NO_AUTOLOAD_ENV
from ropbench.registry import Registry
from ropbench.report import load_run, render_report, write_report
from ropbench.report.pictures import DISPLAY_SIZE
from tests.report.fake_run import CONTROLS, EXPLANATIONS, GENERATOR, MODELS, heatmap_key, train_key


def _images(html: str) -> list[str]:
    return re.findall(r'<img src="([^"]+)"', html)


def _between(html: str, start: str, end: str) -> str:
    return html.split(start, 1)[1].split(end, 1)[0]


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


def test_the_prior_chart_comes_first(fake_run):
    main_html = render_report(load_run(fake_run)).split("<main>", 1)[1]
    assert main_html.startswith('<h2 id="glance">')
    glance = _between(main_html, 'id="glance"', 'id="leaderboards"')
    assert glance.count('<svg') == 1 and 'class="chart prior-chart"' in glance
    assert glance.count('<g class="mark"') == len(EXPLANATIONS)
    assert glance.count('<line class="reference"') == 3


def test_headline_board_marks_controls_and_verdicts(fake_run):
    html = render_report(load_run(fake_run))
    headline = _between(html, 'class="board headline"', "</table>")
    rows = re.findall(r'<tr class="(\w+)"><td>([^<]*)</td><td>([^<]*)</td>.*?<td class="verdict (\w+)">', headline)
    assert rows == [("explanation", "seed-cnn", "gradcam", "yes"), ("explanation", "vit_tiny_patch16", "rollout", "no"),
                    ("control", "all architectures", "random (control)", "no"),
                    ("control", "all architectures", "vessel-map (control)", "no"),
                    ("control", "all architectures", "oracle (control)", "yes")]
    assert "relevance-mass ↑ (chance 0.140, vessel prior 0.650)" in html
    assert "controls missing: vessel-map-pooled" in html


def test_study_section_carries_the_study_table(fake_run):
    study = _between(render_report(load_run(fake_run)), 'id="study"', 'id="gallery"')
    assert "<code>study-precision@p</code>" in study  # markdown code spans become <code>
    assert study.count('<table class="study">') == 2
    assert "<td class=\"num\">57.34 / 65.57</td>" in study and "<td class=\"num\">18.29 / 99.63</td>" in study


def test_gallery_uses_the_same_first_shared_images_for_every_pair_controls_last(fake_run):
    gallery = _between(render_report(load_run(fake_run)), 'id="gallery"', 'id="confusion"')
    # Seed 0 is shown; the rollout explained only 3, 5, 7, so every row uses those.
    assert f"{GENERATOR} (seed 0)" in gallery
    assert re.findall(r"<th scope=\"col\">test image (\d+)</th>", gallery) == ["3", "5", "7"]
    rows = re.findall(r'<tr(?: class="control")?><th scope="row">([^<]+)</th>(.*?)</tr>', gallery)
    labels = [label for label, _ in rows]
    assert labels == (["image", "ground truth"] + [f"{a} / {e}" for a, e in EXPLANATIONS]
                      + [f"{a} / {c} (control)" for c in CONTROLS for a in MODELS])
    assert all(len(_images(cells)) == 3 for _, cells in rows)
    # Every heatmap row draws its own picture of the same image.
    assert len({_images(cells)[0] for _, cells in rows[2:]}) == len(rows) - 2


def test_cells_are_found_through_task_keys_not_labels(fake_run):
    manifest_path = fake_run / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    for task in manifest["tasks"]:
        task["label"] = "renamed by a later ropbench"
    manifest_path.write_text(json.dumps(manifest))
    gallery = _between(render_report(load_run(fake_run)), 'id="gallery"', 'id="confusion"')
    assert "unavailable" not in gallery and len(_images(gallery)) == 3 * (2 + len(EXPLANATIONS) + 2 * len(CONTROLS))


def test_confusion_matrices_from_cached_predictions_summed_over_seeds(fake_run):
    section = render_report(load_run(fake_run)).split('id="confusion"')[1]
    cnn = _between(section, f"{GENERATOR} / seed-cnn (seeds 0, 1; 16 images)", "</table>")
    # Per seed: healthy 3 right + 1 called ROP; ROP 3 right + 1 called healthy.
    assert re.findall(r'<td class="\w+">(\d+)</td>', cnn) == ["6", "2", "2", "6"]
    vit = _between(section, f"{GENERATOR} / vit_tiny_patch16 (seeds 0, 1; 16 images)", "</table>")
    assert re.findall(r'<td class="\w+">(\d+)</td>', vit) == ["0", "8", "0", "8"]
    # The probe's P(ROP) is exactly 0.5, which reaches the threshold: everything called ROP.
    probe = _between(section, f"{GENERATOR} / shortcut-probe (control) (seeds 0, 1; 16 images)", "</table>")
    assert re.findall(r'<td class="\w+">(\d+)</td>', probe) == ["0", "8", "0", "8"]
    assert section.index("seed-cnn (seeds") < section.index("shortcut-probe (control)")


def test_missing_predictions_name_the_seed(fake_run):
    key = train_key("seed-cnn", 1)
    (fake_run.parent / "cache" / "predictions" / key[:2] / f"{key}.pt").unlink()
    section = render_report(load_run(fake_run)).split('id="confusion"')[1]
    assert f"{GENERATOR} / seed-cnn (seeds 0; 8 images)" in section
    assert re.search(rf"seed 1: cache entry \S+{key}\.pt is missing", section)


def test_missing_cache_still_renders_tables_and_names_the_directory(fake_run):
    cache = fake_run.parent / "cache"
    shutil.rmtree(cache)
    html = render_report(load_run(fake_run))
    assert "Gallery unavailable" in html and str(cache) in html
    assert "Confusion matrices unavailable" in html
    assert "Classification (test set)" in html and "Original study format" in html and "prior-chart" in html
    assert not _images(html)


def test_missing_heatmap_entry_marks_only_its_row(fake_run):
    key = heatmap_key("seed-cnn", "random", 0)
    (fake_run.parent / "cache" / "heatmaps" / key[:2] / f"{key}.pt").unlink()
    gallery = _between(render_report(load_run(fake_run)), 'id="gallery"', 'id="confusion"')
    assert "unavailable: cache entry" in gallery and key in gallery
    rows = 2 + len(EXPLANATIONS) + len(MODELS) * len(CONTROLS) - 1
    assert len(_images(gallery)) == 3 * rows


def test_interrupted_run_says_partial(fake_run):
    manifest_path = fake_run / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["interrupted"] = True
    manifest_path.write_text(json.dumps(manifest))
    assert "Partial run:" in render_report(load_run(fake_run))


def test_report_is_deterministic(fake_run):
    assert render_report(load_run(fake_run)) == render_report(load_run(fake_run))


def test_cli_writes_to_out_and_html_reporter_is_registered(fake_run, tmp_path, capsys, monkeypatch):
    out = tmp_path / "elsewhere" / "page.html"
    assert main(["report", str(fake_run), "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    # Only the reporters plugin: loading every built-in (timm, captum) would dominate the test.
    monkeypatch.setenv(NO_AUTOLOAD_ENV, "1")
    reporter = Registry.load(builtins=("ropbench_plugins.reporters.html",)).reporters.get("html")
    (fake_run / "report.html").unlink(missing_ok=True)
    assert reporter.write(fake_run, None, {}) == [fake_run / "report.html"]


def test_cli_rejects_a_directory_without_results(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert "not a run directory" in capsys.readouterr().err
