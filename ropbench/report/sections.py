"""The report's sections as HTML fragments; every text that comes from a run is escaped."""

from __future__ import annotations

import json
import re
from html import escape
from typing import Any, Iterable, Mapping, Sequence

import pandas as pd

from ropbench.leaderboard import READING_GUIDE
from ropbench.report.boards import BoardData, BoardTable, generator_board, threshold_tables
from ropbench.report.controls import CONTROL_MARK
from ropbench.report.verdict import VERDICT_HEADER
from ropbench.report.charts import PERCENTILE_PRECISION, PERCENTILE_RECALL, line_chart_svg, threshold_series
from ropbench.report.confusion import CLASS_NAMES, ConfusionMatrix
from ropbench.report.gallery import Gallery
from ropbench.report.prior_chart import prior_chart, prior_chart_svg
from ropbench.report.study import STUDY_INTRO, protocol_note, study_tables

__all__ = [
    "html_table", "board_table_html", "facts_section", "glance_section", "leaderboard_section",
    "thresholds_section", "study_section", "gallery_section", "confusion_section", "manifest_section",
]


def _is_number(text: str) -> bool:
    return text[:1].isdigit() or text[:1] == "-" and text[1:2].isdigit() or text == "n/a"


def _prose(text: str) -> str:
    """Escaped text whose `code spans` (the markdown boards' notation) become <code>."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", escape(text))


def _cell(value: Any) -> str:
    text = escape(str(value))
    return f'<td class="num">{text}</td>' if _is_number(text) else f"<td>{text}</td>"


def html_table(headers: Sequence[str], rows: Iterable[Sequence[Any]], caption: str = "",
               css_class: str = "") -> str:
    """A plain HTML table; numbers right-aligned."""
    head = "".join(f'<th scope="col">{escape(str(h))}</th>' for h in headers)
    body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in rows)
    caption_html = f"<caption>{escape(caption)}</caption>" if caption else ""
    class_html = f' class="{css_class}"' if css_class else ""
    return f'<div class="scroll"><table{class_html}>{caption_html}<thead><tr>{head}</tr></thead>' \
           f"<tbody>{body}</tbody></table></div>"


def board_table_html(table: BoardTable, heading: str = "h4") -> str:
    """A board table: control rows carry class ``control`` (styled apart), explanations
    ``explanation``; the verdict cell carries ``verdict yes|no|na``."""
    verdict_column = table.headers.index(VERDICT_HEADER) if VERDICT_HEADER in table.headers else -1
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in table.headers)
    body = []
    for row in table.rows:
        cells = [f"<td>{escape(label)}</td>" for label in row.labels]
        for column, value in enumerate(row.cells, start=table.labels):
            if column == verdict_column:
                cells.append(f'<td class="verdict {"na" if value == "n/a" else escape(value)}">{escape(value)}</td>')
            else:
                cells.append(_cell(value))
        body.append(f'<tr class="{"control" if row.control else "explanation"}">{"".join(cells)}</tr>')
    notes = "".join(f'<p class="note">{_prose(note)}</p>' for note in table.notes)
    return (f"<{heading}>{escape(table.title)}</{heading}>{notes}<div class=\"scroll\">"
            f'<table class="board {escape(table.section)}" data-generator="{escape(table.generator)}">'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>")


def facts_section(manifest: Mapping[str, Any], title: str) -> str:
    """Who, what and how: suite, seeds, versions, commit, timing; failures, an
    interruption and the pairs that do not apply."""
    suite = manifest.get("suite", {})
    git = manifest.get("git") or {}
    facts = [
        ("suite", f"{title} — {suite.get('description', '')}".rstrip(" —")),
        ("seeds", ", ".join(str(s) for s in manifest.get("seeds", [])) or "?"),
        ("image size", f"{suite.get('image_size', '?')} px"),
        ("ropbench", manifest.get("ropbench_version", "?")),
        ("git commit", (git.get("commit", "?")[:12] + (" (dirty)" if git.get("dirty") else "")) if git else "?"),
        ("executor", manifest.get("executor", "?")),
        ("wall time", f"{manifest.get('wall_seconds', '?')} s"),
        ("finished", manifest.get("finished_at", "?")),
        ("cache", manifest.get("cache_dir", "?")),
    ]
    items = "".join(f"<dt>{escape(k)}</dt><dd>{escape(str(v))}</dd>" for k, v in facts)
    parts = [f'<dl class="facts">{items}</dl>']
    if manifest.get("interrupted"):
        parts.append('<div class="warning"><strong>Partial run:</strong> it was interrupted; cells missing seeds '
                     "or tasks show what finished.</div>")
    failures = manifest.get("failures", [])
    if failures:
        listed = "".join(f"<li>{escape(f.get('stage', ''))} {escape(f.get('label', ''))}: "
                         f"{escape(f.get('error', ''))}</li>" for f in failures)
        parts.append(f'<div class="warning"><strong>{len(failures)} task(s) failed</strong><ul>{listed}</ul></div>')
    unsupported = sorted({(str(p.get("architecture", "")), str(p.get("explainer", "")), str(p.get("reason", "")))
                          for p in manifest.get("unsupported_pairs", [])})
    if unsupported:
        listed = "".join(f"<li>{escape(a)} × {escape(e)}: {escape(reason)}</li>" for a, e, reason in unsupported)
        parts.append(f"<details><summary>{len(unsupported)} pair(s) do not apply</summary><ul>{listed}</ul></details>")
    return "".join(parts)


def glance_section(data: BoardData, table: pd.DataFrame) -> str:
    """The first picture: per generator, each explanation's headline score against the
    random map, the vessel prior and the oracle."""
    parts = ['<h2 id="glance">At a glance: which explanations beat the vessel prior</h2>',
             '<p class="muted">Each mark is one (architecture, explainer), best first; the lines are the '
             "controls' scores on the same metric. A filled mark's 95% CI clears the vessel prior in every seed.</p>"]
    for generator in data.generators:
        chart = prior_chart(data, table, generator)
        parts.append(f"<h3>{escape(generator)}</h3>")
        if chart is None:
            parts.append('<p class="warning">No prior-controlled metric (vessel-auroc, segment-auroc) in this run: '
                         "add them to the suite to see whether an explanation beats the vessel prior.</p>")
        else:
            parts.append(prior_chart_svg(chart))
    return "\n".join(parts)


def leaderboard_section(data: BoardData, rank_by: Sequence[str]) -> str:
    """Per generator: the board (classification, localization beyond the vessel prior,
    whole-image, ..., faithfulness, sanity)."""
    parts = ['<h2 id="leaderboards">Leaderboards</h2>',
             f'<p class="muted">Mean ± std over seeds. {_prose(READING_GUIDE)}</p>']
    for generator in data.generators:
        parts.append(f"<h3>{escape(generator)}</h3>")
        parts += [board_table_html(t) for t in generator_board(data, generator, rank_by)]
    return "\n".join(parts)


def thresholds_section(data: BoardData, rank_by: Sequence[str]) -> str:
    """The ``family@p`` tables (all-pixel percentile and the study's vessel-weighted
    protocol) and the all-pixel precision / recall curves, per generator."""
    parts = []
    for generator in data.generators:
        tables = [board_table_html(t) for t in threshold_tables(data, generator, rank_by)]
        charts = []
        for prefix, name in ((PERCENTILE_PRECISION, "precision"), (PERCENTILE_RECALL, "recall")):
            series = threshold_series(data.summary, generator, prefix, data.controls)
            if series:
                charts.append(line_chart_svg(series, f"{generator}: {name} vs threshold (all pixels)", f"{name} (%)"))
        if tables or charts:
            parts.append(f"<h3>{escape(generator)}</h3>{''.join(tables)}<div class=\"charts\">{''.join(charts)}</div>")
    if not parts:
        return ""
    return ('<h2 id="thresholds">Percentile thresholds</h2><p class="muted">All-pixel (percentile-*) and the '
            "study's vessel-weighted (study-*) scores at the map's p-th percentile, one column per p.</p>"
            + "".join(parts))


def study_section(data: BoardData) -> str:
    """ropbench's study-protocol scores beside the study's Table 1, the uniform chance and
    the vessel-map control, when the run has them."""
    tables = study_tables(data)
    if not tables:
        return ""
    rendered = "".join(html_table(t.headers, t.rows, caption=t.title, css_class="study") for t in tables)
    return (f'<h2 id="study">Original study format</h2><p class="muted">{_prose(STUDY_INTRO)}</p>'
            f'<p class="note">{_prose(protocol_note(data.manifest, tables))}</p>'
            f'<div class="study-grid">{rendered}</div>')


def _picture(uri: str, alt: str) -> str:
    return f'<td><img src="{uri}" alt="{escape(alt)}" width="128" height="128"></td>'


def gallery_section(galleries: list[Gallery]) -> str:
    """Image, ground truth and one overlay row per (architecture, explainer), controls last."""
    parts = ['<h2 id="gallery">Heatmap gallery</h2><p class="muted">The same test images under every '
             "(architecture, explainer) of a generator (first seed), controls last. Heatmaps are min-max scaled "
             "per image for display only; the magenta line is the ground-truth outline.</p>"]
    if not galleries:
        parts.append('<p class="warning">No explained cells in this run: nothing to show.</p>')
    for gallery in galleries:
        parts.append(f"<h3>{escape(gallery.generator)} (seed {gallery.seed})</h3>")
        if gallery.unavailable:
            parts.append(f'<p class="warning gallery-unavailable">Gallery unavailable: '
                         f"{escape(gallery.unavailable)}.</p>")
            continue
        head = "".join(f'<th scope="col">test image {i}</th>' for i in gallery.indices)
        rows = ['<tr><th scope="row">image</th>'
                + "".join(_picture(u, f"test image {i}") for u, i in zip(gallery.retinas, gallery.indices))
                + "</tr>",
                '<tr><th scope="row">ground truth</th>'
                + "".join(_picture(u, f"mask {i}") for u, i in zip(gallery.masks, gallery.indices)) + "</tr>"]
        for row in gallery.rows:
            css = ' class="control"' if row.control else ""
            if row.problem:
                rows.append(f'<tr{css}><th scope="row">{escape(row.label)}</th><td colspan="{len(gallery.indices)}" '
                            f'class="warning">unavailable: {escape(row.problem)}</td></tr>')
                continue
            pictures = "".join(_picture(u, f"{row.label} heatmap {i}") for u, i in zip(row.pictures, gallery.indices))
            rows.append(f'<tr{css}><th scope="row">{escape(row.label)}</th>{pictures}</tr>')
        parts.append(f'<div class="scroll"><table class="gallery"><thead><tr><th></th>{head}</tr></thead>'
                     f"<tbody>{''.join(rows)}</tbody></table></div>")
    return "\n".join(parts)


def _confusion_table(matrix: ConfusionMatrix) -> str:
    head = "".join(f'<th scope="col">predicted {n}</th>' for n in CLASS_NAMES)
    rows = "".join(
        f'<tr><th scope="row">true {CLASS_NAMES[t]}</th>'
        + "".join(f'<td class="{"hit" if t == p else "miss"}">{matrix.counts[t][p]}</td>' for p in range(2))
        + "</tr>" for t in range(2))
    seeds = ", ".join(str(s) for s in matrix.seeds)
    name = matrix.architecture + (CONTROL_MARK if matrix.control else "")
    caption = f"{matrix.generator} / {name} (seeds {seeds}; {matrix.total} images)"
    problems = "".join(f'<p class="warning">{escape(p)}</p>' for p in matrix.problems)
    return (f'<div><table class="confusion"><caption>{escape(caption)}</caption><thead><tr><th></th>{head}'
            f"</tr></thead><tbody>{rows}</tbody></table>{problems}</div>")


def confusion_section(matrices: list[ConfusionMatrix] | None, unavailable: str) -> str:
    """Test-set confusion matrices summed over seeds (ROP predicted at probability >= 0.5)."""
    parts = ['<h2 id="confusion">Confusion matrices</h2><p class="muted">Test set, summed over seeds; '
             "ROP predicted when its probability reaches 0.5.</p>"]
    if matrices is None:
        parts.append(f'<p class="warning">Confusion matrices unavailable: {escape(unavailable)}.</p>')
    else:
        parts.append(f'<div class="confusions">{"".join(_confusion_table(m) for m in matrices)}</div>')
    return "".join(parts)


def manifest_section(manifest: Mapping[str, Any]) -> str:
    """The run's manifest, verbatim (collapsed)."""
    text = json.dumps(manifest, indent=2, sort_keys=True, default=str)
    return ('<h2 id="manifest">Manifest</h2><details><summary>manifest.json '
            f'({len(text.splitlines())} lines)</summary><pre class="manifest">{escape(text)}</pre></details>')
