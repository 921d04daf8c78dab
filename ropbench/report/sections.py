"""The report's sections as HTML fragments; every text that comes from a run is escaped."""

from __future__ import annotations

import json
from html import escape
from typing import Any, Iterable, Mapping, Sequence

import pandas as pd

from ropbench.leaderboard import (
    KIND_TITLES, STUDY_PRECISION, STUDY_RECALL, kind_table, ranking_metric, study_table,
)
from ropbench.registry import natural_key
from ropbench.report.charts import line_chart_svg, threshold_series
from ropbench.report.confusion import CLASS_NAMES, ConfusionMatrix
from ropbench.report.gallery import Gallery

__all__ = [
    "html_table", "facts_section", "leaderboard_section", "study_section", "curves_section",
    "gallery_section", "confusion_section", "manifest_section",
]


def _cell(value: Any) -> str:
    text = escape(str(value))
    return f'<td class="num">{text}</td>' if text[:1].isdigit() or text[:1] == "-" and text[1:2].isdigit() \
        else f"<td>{text}</td>"


def html_table(headers: Sequence[str], rows: Iterable[Sequence[Any]], caption: str = "",
               css_class: str = "") -> str:
    """A plain HTML table; numbers right-aligned."""
    head = "".join(f'<th scope="col">{escape(str(h))}</th>' for h in headers)
    body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in rows)
    caption_html = f"<caption>{escape(caption)}</caption>" if caption else ""
    class_html = f' class="{css_class}"' if css_class else ""
    return f'<div class="scroll"><table{class_html}>{caption_html}<thead><tr>{head}</tr></thead>' \
           f"<tbody>{body}</tbody></table></div>"


def facts_section(manifest: Mapping[str, Any], title: str) -> str:
    """Who, what and how: suite, seeds, versions, commit, timing, failures."""
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
    failures = manifest.get("failures", [])
    warning = ""
    if failures:
        listed = "".join(f"<li>{escape(f.get('stage', ''))} {escape(f.get('label', ''))}: "
                         f"{escape(f.get('error', ''))}</li>" for f in failures)
        warning = f'<div class="warning"><strong>{len(failures)} task(s) failed</strong><ul>{listed}</ul></div>'
    return f'<dl class="facts">{items}</dl>{warning}'


def leaderboard_section(summary: pd.DataFrame, generators: list[str], rank_by: Sequence[str]) -> str:
    """Per generator and metric kind: the leaderboard tables (mean ± std, chance in headers)."""
    parts = ['<h2 id="leaderboards">Leaderboards</h2>',
             '<p class="muted">Mean ± std over seeds; ↑ higher is better, ↓ lower is better; '
             "chance = the expected score of a uniformly random heatmap.</p>"]
    for generator in generators:
        of_generator = summary[summary["generator"] == generator]
        parts.append(f"<h3>{escape(generator)}</h3>")
        for kind, heading in KIND_TITLES.items():
            if not (of_generator["kind"] == kind).any():
                continue
            ranking = ranking_metric(of_generator, kind, rank_by)
            headers, rows = kind_table(of_generator, kind, ranking)
            note = f" — ranked by {ranking}" if ranking else ""
            parts.append(f"<h4>{escape(heading + note)}</h4>")
            parts.append(html_table(headers, rows, css_class=f"leaderboard {kind}"))
    return "\n".join(parts)


def study_section(summary: pd.DataFrame) -> str:
    """The original study's percentile precision / recall tables, when the run has them."""
    metrics = summary["metric"].astype(str)
    chosen = summary[metrics.str.startswith((STUDY_PRECISION, STUDY_RECALL))]
    if chosen.empty:
        return ""
    triples = sorted({(str(g), str(a), str(e)) for g, a, e in
                      zip(chosen["generator"], chosen["architecture"], chosen["explainer"])},
                     key=lambda t: tuple(tuple(natural_key(v)) for v in t))
    tables = "".join(
        html_table(["p", "precision / recall (%)"], study_table(summary, g, a, e),
                   caption=f"{g} / {a} / {e}", css_class="study") for g, a, e in triples)
    return ('<h2 id="study">Original study format</h2><p class="muted">Heatmap thresholded at its '
            "p-th percentile: precision = share of the top pixels inside the ground truth, recall = "
            "share of the ground truth they cover (percent, mean ± std over seeds).</p>"
            f'<div class="study-grid">{tables}</div>')


def curves_section(summary: pd.DataFrame, generators: list[str]) -> str:
    """Precision and recall against the percentile threshold, one pair of charts per generator."""
    parts = []
    for generator in generators:
        charts = []
        for prefix, name in ((STUDY_PRECISION, "precision"), (STUDY_RECALL, "recall")):
            series = threshold_series(summary, generator, prefix)
            if series:
                charts.append(line_chart_svg(series, f"{generator}: {name} vs threshold", f"{name} (%)"))
        if charts:
            parts.append(f"<h3>{escape(generator)}</h3><div class=\"charts\">{''.join(charts)}</div>")
    if not parts:
        return ""
    return '<h2 id="curves">Precision and recall against threshold</h2>' + "".join(parts)


def _picture(uri: str, alt: str) -> str:
    return f'<td><img src="{uri}" alt="{escape(alt)}" width="128" height="128"></td>'


def gallery_section(galleries: list[Gallery]) -> str:
    """Image, ground truth and one overlay row per (architecture, explainer)."""
    parts = ['<h2 id="gallery">Heatmap gallery</h2><p class="muted">The same test images under every '
             "(architecture, explainer) of a generator (first seed). Heatmaps are min-max scaled per "
             "image for display only; the magenta line is the ground-truth outline.</p>"]
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
            label = f"{row.architecture} / {row.explainer}"
            if row.problem:
                rows.append(f'<tr><th scope="row">{escape(label)}</th><td colspan="{len(gallery.indices)}" '
                            f'class="warning">unavailable: {escape(row.problem)}</td></tr>')
                continue
            rows.append(f'<tr><th scope="row">{escape(label)}</th>'
                        + "".join(_picture(u, f"{label} heatmap {i}") for u, i in zip(row.pictures, gallery.indices))
                        + "</tr>")
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
    caption = f"{matrix.generator} / {matrix.architecture} (seeds {seeds}; {matrix.total} images)"
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
