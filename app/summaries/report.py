"""Markdown and HTML renderings of a Report (HTML escapes every piece of document text)."""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

from heprag.app.answer import Sentence
from heprag.app.bibtex import bibtex
from heprag.app.summaries.model import Cell, DocumentSummary, Report
from heprag.app.summaries.references import links


def _cite(numbers: list[int]) -> str:
    return "".join(f" [{n}]" for n in numbers)


def _md(text: str) -> str:
    """Document text made inert in markdown (no accidental emphasis, links, tables or raw HTML)."""
    text = re.sub(r"\s+", " ", text)
    return re.sub(r"([\\`*_{}\[\]<>|#])", r"\\\1", text)


def _md_sentence(s: Sentence) -> str:
    warn = f" ⚠ {', '.join(s.flags)}" if s.flags else ""
    return f"{_md(s.text)}{_cite(s.citations)}{warn}"


def _md_cell(cell: Cell | None) -> str:
    if cell is None:
        return "—"
    mark = "" if cell.found else " ⚠ not found"
    return f"{_md(cell.value)}{_cite([cell.citation] if cell.citation else [])}{mark}"


def _summary_sections(report: Report) -> list[tuple[str, list[DocumentSummary]]]:
    """On-topic documents' summaries, then those of related documents (kept out of the synthesis)."""
    on = {s.doc.doc_id for s in report.selection if s.on_topic}
    sections = [
        ("Per-document summaries", [d for d in report.summaries if d.doc_id in on]),
        ("Related documents (not in the synthesis)", [d for d in report.summaries if d.doc_id not in on]),
    ]
    return [(heading, summaries) for heading, summaries in sections if summaries]


def render_markdown(report: Report, image: str | None = None) -> str:
    """The report as markdown; `image` is the timeline's path relative to the markdown file."""
    out = [f"# {_md(report.topic)}", ""]
    out.append(
        f"*Literature report generated {report.created} by heprag ({report.backend} backend) from "
        f"{len(report.selection)} documents of `{report.index_dir}`. Checks: {report.tallies.line()}.*"
    )
    out += ["", "## Synthesis", ""]
    for group in report.synthesis:
        out += [f"### {_md(group.theme)}", ""]
        out += [f"- {_md_sentence(s)}" for s in group.sentences] or ["- (no cited sentence)"]
        out.append("")
    out += ["## Key numbers", ""]
    if report.key_numbers:
        out += ["| Quantity | Value | Experiment | √s | Luminosity | Document |", "|---|---|---|---|---|---|"]
        for row in report.key_numbers:
            doc = report.document(row.doc_id)
            out.append(
                f"| {_md(row.quantity)} | {_md_cell(row.value)} | {_md(row.experiment or '—')} | "
                f"{_md_cell(row.sqrt_s)} | {_md_cell(row.luminosity)} | {_md(doc.short_name)} |"
            )
    else:
        out.append("No measured quantity was found in the selected passages.")
    for heading, summaries in _summary_sections(report):
        out += ["", f"## {heading}", ""]
        for summary in summaries:
            doc = report.document(summary.doc_id)
            out += [f"### {_md(doc.short_name)}: {_md(doc.title)}", ""]
            out += [f"- {_md_sentence(s)}" for s in summary.sentences] or ["- (no cited sentence)"]
            out.append("")
    out += ["## Reading list", ""]
    out += [
        f"{i}. **{_md(report.document(item.doc_id).title)}** ({_md(report.document(item.doc_id).short_name)})"
        f" — {_md(item.why)}"
        for i, item in enumerate(report.reading_list, start=1)
    ]
    out += ["", "## Timeline", ""]
    out.append(f"![Timeline of the documents by year]({image})" if image else "No dated documents.")
    out += ["", "## Selection", ""]
    for sel in report.selection:
        out.append(f"- **{_md(sel.doc.short_name)}** (relevance {sel.relevance:.2f}): {_md(sel.reason)}")
        out += [
            f"  - {_md(h.chunk.label)} (score {h.score:.4f}): “{_md(h.chunk.text[:160])}…”"
            for h in sel.hits[:3]
        ]
    if report.missing_papers:
        out.append(f"- Not in the index (ignored): {_md(', '.join(report.missing_papers))}")
    out += ["", "## Sources", ""]
    for c in report.citations:
        where = f" — {c.url}" if c.url else ""
        out.append(f"{c.n}. {_md(c.label)}{where}: “{_md(c.quote[:300])}”")
    out += ["", "## References", ""]
    for sel in report.selection:
        doc = sel.doc
        link = links(doc)
        parts = [
            f"[arXiv]({link['abs']})" if "abs" in link else "",
            f"[INSPIRE]({link['inspire']})" if "inspire" in link else "",
        ]
        anchors = " ".join(p for p in parts if p)
        out += [f"- {_md(doc.short_name)}, *{_md(doc.title)}* ({doc.year or 'n.d.'}) {anchors}", ""]
        out += ["  ```bibtex", *[f"  {line}" for line in bibtex(doc).strip().splitlines()], "  ```", ""]
    return "\n".join(out).rstrip() + "\n"


# ---------------------------------------------------------------------------------------------- HTML
_CSS = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.45}
body{color:#222}h1{font-size:1.7rem}h2{border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:2rem}
table{border-collapse:collapse;width:100%;font-size:.9rem}
td,th{border:1px solid #ccc;padding:.3rem .5rem;text-align:left}
th{background:#f3f3f3}.cite{color:#1a5fb4;font-size:.8em;text-decoration:none}.flag{color:#b00;font-weight:bold}
.meta{color:#555;font-size:.9rem}pre{background:#f6f6f6;padding:.5rem;overflow-x:auto;font-size:.8rem}
img{max-width:100%;border:1px solid #eee}.quote{color:#555}"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _h_cite(numbers: list[int]) -> str:
    return "".join(f' <a class="cite" href="#src-{n}">[{n}]</a>' for n in numbers)


def _h_sentence(s: Sentence) -> str:
    flag = f' <span class="flag">⚠ {_e(", ".join(s.flags))}</span>' if s.flags else ""
    return f"<li>{_e(s.text)}{_h_cite(s.citations)}{flag}</li>"


def _h_cell(cell: Cell | None) -> str:
    if cell is None:
        return "<td>—</td>"
    flag = "" if cell.found else ' <span class="flag">⚠ not found</span>'
    return f"<td>{_e(cell.value)}{_h_cite([cell.citation] if cell.citation else [])}{flag}</td>"


def _data_uri(path: str | None) -> str | None:
    if not path or not Path(path).exists():
        return None
    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode("ascii")


def render_html(report: Report) -> str:
    """A self-contained HTML page (timeline embedded as a data URI); all document text escaped."""
    b: list[str] = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_e(report.topic)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_e(report.topic)}</h1>",
        f'<p class="meta">Generated {_e(report.created)} by heprag ({_e(report.backend)} backend) from '
        f"{len(report.selection)} documents. Checks: {_e(report.tallies.line())}.</p>",
        "<h2>Synthesis</h2>",
    ]  # fmt: skip
    for group in report.synthesis:
        b += [f"<h3>{_e(group.theme)}</h3><ul>", *map(_h_sentence, group.sentences), "</ul>"]
    b.append("<h2>Key numbers</h2>")
    if report.key_numbers:
        b.append("<table><tr><th>Quantity</th><th>Value</th><th>Experiment</th><th>√s</th>"
                 "<th>Luminosity</th><th>Document</th></tr>")  # fmt: skip
        for row in report.key_numbers:
            b.append(
                f"<tr><td>{_e(row.quantity)}</td>{_h_cell(row.value)}<td>{_e(row.experiment or '—')}</td>"
                f"{_h_cell(row.sqrt_s)}{_h_cell(row.luminosity)}<td>{_e(report.document(row.doc_id).short_name)}</td></tr>"
            )
        b.append("</table>")
    else:
        b.append("<p>No measured quantity was found in the selected passages.</p>")
    for heading, summaries in _summary_sections(report):
        b.append(f"<h2>{_e(heading)}</h2>")
        for summary in summaries:
            doc = report.document(summary.doc_id)
            b += [
                f"<h3>{_e(doc.short_name)}: {_e(doc.title)}</h3><ul>",
                *map(_h_sentence, summary.sentences),
                "</ul>",
            ]
    b.append("<h2>Reading list</h2><ol>")
    for item in report.reading_list:
        doc = report.document(item.doc_id)
        b.append(f"<li><b>{_e(doc.title)}</b> ({_e(doc.short_name)}) — {_e(item.why)}</li>")
    b.append("</ol><h2>Timeline</h2>")
    uri = _data_uri(report.timeline_png)
    b.append(
        f'<img alt="Timeline of the documents by year" src="{uri}">' if uri else "<p>No dated documents.</p>"
    )
    b.append("<h2>Selection</h2><ul>")
    for sel in report.selection:
        b.append(f"<li><b>{_e(sel.doc.short_name)}</b> (relevance {sel.relevance:.2f}): {_e(sel.reason)}<ul>")
        for h in sel.hits[:3]:
            quote = f'<span class="quote">“{_e(h.chunk.text[:160])}…”</span>'
            b.append(f"<li>{_e(h.chunk.label)} (score {h.score:.4f}): {quote}</li>")
        b.append("</ul></li>")
    b.append("</ul><h2>Sources</h2><ol>")
    for c in report.citations:
        link = f' — <a href="{_e(c.url)}">{_e(c.url)}</a>' if c.url else ""
        quote = f'<span class="quote">“{_e(c.quote[:300])}”</span>'
        b.append(f'<li id="src-{c.n}" value="{c.n}">{_e(c.label)}{link}: {quote}</li>')
    b.append("</ol><h2>References</h2><ul>")
    for sel in report.selection:
        doc, doc_links = sel.doc, links(sel.doc)
        anchors = " ".join(
            f'<a href="{_e(doc_links[k])}">{name}</a>'
            for k, name in (("abs", "arXiv"), ("inspire", "INSPIRE"))
            if k in doc_links
        )
        b.append(f"<li>{_e(doc.short_name)}, <i>{_e(doc.title)}</i> ({_e(doc.year or 'n.d.')}) {anchors}"
                 f"<pre>{_e(bibtex(doc).strip())}</pre></li>")  # fmt: skip
    b.append("</ul></body></html>")
    return "\n".join(b) + "\n"
