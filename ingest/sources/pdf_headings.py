"""Paragraphs and section headings of a PDF from its styled lines (see `pdf_layout.page_lines`).

A heading is a short standalone run of 1-3 lines set apart from the body by its style: bold at
body size or larger, or a font clearly larger than the body (Word and Google Docs headings are
often not bold). Numbered headings ("3.1 Results", "2. Challenges") nest by their number; the
others by the rank of their font size among the headings. What looks like a heading but is front
matter (the title and subtitle on page 1, a title repeated on page 2) stays text.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from heprag.ingest.sources.pdf_layout import CAPTION, Line, join_lines, vocabulary

NUMBERED_HEADING = re.compile(
    r"^(?P<num>(\d{1,2}|[A-H])(\.\d{1,2}){0,3})(\.?\s+|\.(?=[^\s\d]))(?P<title>[^\s\d.].{0,100})$"
)
UNNUMBERED_HEADINGS = {
    "abstract", "introduction", "conclusion", "conclusions", "summary", "acknowledgments",
    "acknowledgements", "acknowledgment", "acknowledgement", "references", "bibliography",
    "references and notes", "appendix", "contents", "table of contents",
}  # fmt: skip
SECTION_NUMBER = re.compile(r"^(\d{1,2}|[A-H])(\.\d{1,2}){0,3}\.?$")
ONLY_NUMBER = re.compile(r"^\s*\d{1,4}\s*$")
MAX_HEADING_LINES = 3


@dataclass
class Para:
    """A paragraph, caption or heading of a PDF, anchored to its page."""

    text: str
    page: int
    is_heading: bool
    size: float
    level: int = 0  # heading depth, 1 = top-level section
    kind: str = "text"  # "text" or "caption"


def body_size(lines: list[Line]) -> float:
    """The font size carrying most characters (half-point buckets)."""
    sizes: Counter[float] = Counter()
    for line in lines:
        sizes[round(line.size * 2) / 2] += len(line.text)
    return sizes.most_common(1)[0][0] if sizes else 0.0


def paragraphs(lines: list[Line]) -> list[Para]:
    """Group lines into paragraphs (one per text block) and headings, in document order."""
    body = body_size(lines)
    words = vocabulary(lines)
    out: list[Para] = []
    number = ""  # LaTeX may set a heading's number apart from its title: "3.1", "Results"
    for block in _blocks(lines):
        current: list[Line] = []
        i = 0
        while i < len(block):
            run = _style_run(block, i)
            text = join_lines([line.text for line in run], words)
            if run[0].bold and SECTION_NUMBER.match(text) and len(run) == 1:
                number = text.rstrip(".")
                i += 1
                continue
            if number and run[0].bold and not text[:1].isdigit():
                text = f"{number} {text}"
            number = ""
            followed_by_body = i + len(run) == len(block) or not _same_style(run[0], block[i + len(run)])
            level = _heading_level(text, run, body) if followed_by_body else 0
            if level:
                if current:
                    out.append(_paragraph(current, words))
                    current = []
                out.append(Para(text.rstrip(". "), run[0].page, True, run[0].size, level))
                i += len(run)
                continue
            current.extend(run)
            i += len(run)
        if current:
            out.append(_paragraph(current, words))
    _demote_impostors(out, body)
    _levels_by_size(out)
    return out


def _blocks(lines: list[Line]) -> list[list[Line]]:
    blocks: list[list[Line]] = []
    for line in lines:
        if ONLY_NUMBER.match(line.text) or not re.search(r"\w", line.text):
            continue  # page and line numbers, lone bullets and math glyphs
        if blocks and blocks[-1][-1].block == line.block:
            blocks[-1].append(line)
        else:
            blocks.append([line])
    return blocks


def _same_style(a: Line, b: Line) -> bool:
    return a.bold == b.bold and a.italic == b.italic and abs(a.size - b.size) < 0.3


def _style_run(block: list[Line], start: int) -> list[Line]:
    """The lines from `start` that share its style (at most one more than a heading may have)."""
    run = [block[start]]
    for line in block[start + 1 : start + MAX_HEADING_LINES + 1]:
        if not _same_style(run[0], line) or line.toc_entry:
            break
        run.append(line)
    return run


def _heading_level(text: str, run: list[Line], body: float) -> int:
    """0 for text; for a heading its depth from the numbering, or -1 when only its size can tell."""
    first = run[0]
    numbered = NUMBERED_HEADING.match(text)
    subsection = bool(numbered and "." in numbered.group("num").rstrip("."))
    emphasised = first.size >= 1.15 * body or (
        first.size >= 0.9 * body and (first.bold or (first.italic and subsection))
    )
    if not emphasised or len(run) > MAX_HEADING_LINES or any(line.toc_entry or line.in_table for line in run):
        return 0
    if text.lower().rstrip(".: ") in UNNUMBERED_HEADINGS:
        return 1
    if CAPTION.match(text) or text.endswith((",", ";", ":")) or len(text.split()) > 20:
        return 0
    if numbered and re.search(r"[^\W\d_]", numbered.group("title")) and not text.endswith("."):
        return numbered.group("num").count(".") + 1
    if len(run) > 2 or text.endswith(".") or not (text[:1].isupper() or text[:1] in "$\\"):
        return 0
    return -1 if re.search(r"[^\W\d_]{3}", text) else 0


def _paragraph(lines: list[Line], words: set[str]) -> Para:
    text = join_lines([line.text for line in lines], words)
    kind = "caption" if CAPTION.match(text) else "text"
    return Para(text, lines[0].page, False, max(line.size for line in lines), kind=kind)


def _demote_impostors(paras: list[Para], body: float) -> None:
    """Headings that are not: the title, subtitle and other page-1 lines before the text, the
    title repeated later (on the journal page after a cover page), and a numbered line smaller
    than deeper headings (a bold enumerated list item)."""
    numbered = [p for p in paras if p.is_heading and p.level > 0 and p.text[:1].isdigit()]
    deeper = {p.level: max((q.size for q in numbered if q.level > p.level), default=0.0) for p in numbered}
    title = ""  # large-print lines on page 1 before the text
    started = False
    for p in paras:
        if not started and p.size >= 1.15 * body and p.page == 1:
            title += " " + _words(p.text)
        if not p.is_heading:
            started = started or len(p.text.split()) >= 20 or p.page > 1
            continue
        if p.level > 0 and p.text[:1].isdigit():
            demote = p.size < deeper[p.level] - 0.5
        elif p.text.lower().rstrip(".: ") in UNNUMBERED_HEADINGS:
            demote = False
        else:
            demote = not started or _words(p.text) in title
        if demote:
            p.is_heading, p.level = False, 0


def _words(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.casefold()))


def _levels_by_size(paras: list[Para]) -> None:
    """Unnumbered headings take the depth numbered headings of their size have, else their size
    rank among the heading sizes used more than once (a one-off size does not shift the others)."""
    depth_of: dict[float, Counter[int]] = {}
    sizes: Counter[float] = Counter()
    for p in paras:
        if p.is_heading and p.text.lower() not in UNNUMBERED_HEADINGS:
            key = round(p.size * 2) / 2
            sizes[key] += 1
            if p.level > 0:
                depth_of.setdefault(key, Counter())[p.level] += 1
    common = [size for size, n in sizes.items() if n > 1] or list(sizes)
    for p in paras:
        if p.is_heading and p.level < 0:
            key = round(p.size * 2) / 2
            larger = sum(1 for size in common if size > key)
            p.level = depth_of[key].most_common(1)[0][0] if key in depth_of else 1 + larger
