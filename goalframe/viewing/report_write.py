"""Writing the report: one HTML file with its PNGs embedded (base64), and Markdown with PNGs beside it.

The HTML carries what each picture shows as ``data-*`` attributes (the interaction type of a
gallery section, each flagged track's id and sorted value), so a program can check it
against the dataset.
"""

from __future__ import annotations

import base64
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from goalframe.viewing.report import ReportContent, Shown
    from goalframe.viewing.report_images import Picture

STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em auto; max-width: 1340px; color: #222; }
h1 { font-size: 1.5em; } h2 { margin-top: 1.6em; border-bottom: 1px solid #ddd; }
figure { margin: 0 0 1.2em 0; } figcaption { font-size: 0.85em; color: #555; max-width: 1300px; }
img { max-width: 100%; height: auto; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; }
figure.card { width: 210px; margin: 0; }
figure.card figcaption { font-size: 0.78em; overflow-wrap: anywhere; }
nav a { margin-right: 1em; }
"""


def _img(picture: Picture) -> str:
    width, height = picture.size
    data = base64.b64encode(picture.png).decode("ascii")
    return (
        f'<img src="data:image/png;base64,{data}" width="{width}" height="{height}"'
        f' alt="{escape(picture.alt)}" data-name="{escape(picture.name)}">'
    )


def _data(facts: dict) -> str:
    return "".join(f' data-{key}="{escape(str(value))}"' for key, value in facts.items())


def _anchor(kind: str) -> str:
    return "interaction-" + "".join(c if c.isalnum() else "-" for c in kind)


def write_html(content: ReportContent, path: Path) -> None:
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(content.title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{escape(content.title)}</h1>",
        *(f"<p>{escape(line)}</p>" for line in content.overview),
        "<nav>"
        + '<a href="#look-first">look at these first</a>'
        + "".join(f'<a href="#{_anchor(kind)}">{escape(kind)}</a>' for kind in content.gallery)
        + '<a href="#timeline">timeline</a><a href="#histograms">histograms</a></nav>',
        '<section id="look-first"><h2>Look at these first</h2>',
    ]
    for criterion, rows in content.flags:
        order = "descending" if criterion.descending else "ascending"
        parts.append(
            f'<div class="flag-list" data-criterion="{criterion.key}" data-order="{order}">'
            f'<h3>{escape(criterion.title)}</h3><p>{escape(criterion.explain)}.</p><div class="cards">'
        )
        if not rows:
            parts.append("<p>None.</p>")
        for shown in rows:
            parts.append(
                f'<figure class="card"{_data(shown.facts)}>{_img(shown.picture)}'
                f"<figcaption>{escape(shown.caption)}</figcaption></figure>"
            )
        parts.append("</div></div>")
    parts.append("</section>")
    for kind, items in content.gallery.items():
        n_events, n_tracks = content.counts[kind]
        parts.append(
            f'<section class="interaction" id="{_anchor(kind)}" data-interaction="{escape(kind)}">'
            f"<h2>{escape(kind)}</h2><p>{n_events} events, {n_tracks} mask tracks; {len(items)} shown:"
            " the event frame (prompt point ringed), the mask, the mask enlarged, and the goal view.</p>"
        )
        parts += [
            f"<figure{_data(s.facts)}>{_img(s.picture)}<figcaption>{escape(s.caption)}</figcaption></figure>"
            for s in items
        ]
        parts.append("</section>")
    parts.append(f'<section id="timeline"><h2>Timeline</h2>{_img(content.timeline)}</section>')
    histograms = _img(content.histograms) if content.histograms else "<p>No mask tracks.</p>"
    parts.append(f'<section id="histograms"><h2>Mask scores and visibility</h2>{histograms}</section>')
    parts.append("</body></html>")
    path.write_text("\n".join(parts), encoding="utf-8")


def _md_image(picture: Picture, folder: Path, written: list[str]) -> str:
    (folder / picture.name).write_bytes(picture.png)
    written.append(picture.name)
    return f"![{picture.alt.replace(']', ')')}]({picture.name})"


def write_markdown(content: ReportContent, path: Path) -> list[str]:
    """``path`` and its PNGs beside it; the PNG file names back."""
    folder, written = path.parent, []
    lines = [f"# {content.title}", "", *content.overview, "", "## Look at these first", ""]
    for criterion, rows in content.flags:
        lines += [f"### {criterion.title}", "", f"{criterion.explain}.", ""]
        if not rows:
            lines += ["None.", ""]
            continue
        lines += ["| | track |", "|---|---|"]
        lines += [f"| {_md_image(s.picture, folder, written)} | {_cell(s)} |" for s in rows]
        lines.append("")
    for kind, items in content.gallery.items():
        n_events, n_tracks = content.counts[kind]
        lines += [f"## {kind}", "", f"{n_events} events, {n_tracks} mask tracks; {len(items)} shown.", ""]
        for shown in items:
            lines += [_md_image(shown.picture, folder, written), "", shown.caption, ""]
    lines += ["## Timeline", "", _md_image(content.timeline, folder, written), ""]
    lines += ["## Mask scores and visibility", ""]
    lines.append(_md_image(content.histograms, folder, written) if content.histograms else "No mask tracks.")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return written


def _cell(shown: Shown) -> str:
    return shown.caption.replace("|", "\\|")
