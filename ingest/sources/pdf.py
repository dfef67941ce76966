"""PDF papers with PyMuPDF: page-anchored paragraphs and captions, sections from headings, references apart.

Layout (figure text, line joins) lives in `pdf_layout`, heading detection in `pdf_headings`.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from heprag.index.errors import LimitExceededError, ParseError
from heprag.index.types import Block, Document, Reference
from heprag.ingest.sources.base import FileParser, ParseLimits, check_file_size, register, suffix_is
from heprag.ingest.sources.ids import arxiv_links, find_collaboration, split_arxiv_id, title_page_numbers
from heprag.ingest.sources.pdf_headings import NUMBERED_HEADING, Para, paragraphs
from heprag.ingest.sources.pdf_layout import Line, normalise, page_lines

log = logging.getLogger(__name__)

ARXIV_STAMP = re.compile(
    r"^arXiv:(?P<id>(\d{4}\.\d{4,5}|[a-z-]+(\.[A-Z]{2})?/\d{7})(v\d+)?)"
    r"\s+\[[\w.-]+\]\s+(?P<date>\d{1,2} \w{3} \d{4})$"
)
ARXIV_FILENAME = re.compile(r"^(arXiv_)?(?P<id>\d{4}\.\d{4,5}(v\d+)?)$")
REFERENCE_HEADINGS = {"references", "bibliography", "references and notes"}
TOC_HEADINGS = {"contents", "table of contents"}
REFERENCE_START = re.compile(r"^\[(\d{1,4}|[A-Z][\w.+:-]{1,30})\]\s*")  # [12] or [Aaij2016]


def _repeated_lines(paragraphs: list[Para], n_pages: int) -> set[str]:
    """Running headers/footers: short paragraphs that recur (digits ignored) on many pages."""
    if n_pages < 4:
        return set()
    pages_with: dict[str, set[int]] = {}
    for p in paragraphs:
        if len(p.text) < 120 and not p.is_heading:
            pages_with.setdefault(re.sub(r"\d+", "#", p.text), set()).add(p.page)
    return {text for text, pages in pages_with.items() if len(pages) >= max(3, n_pages // 2)}


def _authors(doc: Any, collaboration: str | None) -> list[str]:
    """The PDF's author metadata ('CMS Collaboration'; ';' separates several), else the collaboration."""
    named = normalise((doc.metadata or {}).get("author") or "")
    if named:
        return [a.strip() for a in named.split(";") if a.strip()]
    return [f"{collaboration} Collaboration"] if collaboration else []


def _title(doc: Any, paragraphs: list[Para]) -> str:
    meta_title = normalise((doc.metadata or {}).get("title") or "")
    if (
        meta_title
        and meta_title.lower() not in {"atlas document", "untitled", "cms paper"}
        and len(meta_title) > 8
    ):
        return meta_title
    first = [p for p in paragraphs if p.page == 1 and not p.is_heading and len(p.text) > 10]
    if not first:
        return ""
    top = max(p.size for p in first)
    start = next(i for i, p in enumerate(first) if p.size == top)
    lines = [p.text for p in first[start:] if abs(p.size - top) < 0.5][:3]
    return " ".join(lines)[:300]


def _references(paragraphs: list[Para]) -> list[Reference]:
    refs: list[Reference] = []
    for p in paragraphs:
        match = REFERENCE_START.match(p.text)
        if match:
            refs.append(Reference(key=match.group(1), text=p.text[match.end() :]))
        elif refs and not p.is_heading:
            refs[-1].text += " " + p.text
    for ref in refs:
        found = re.search(r"arXiv:\s*(\d{4}\.\d{4,5}|[a-z-]+/\d{7})", ref.text)
        ref.arxiv_id = found.group(1) if found else None
        doi = re.search(r"doi:\s*(10\.\S+?)[,.]?(\s|$)", ref.text)
        ref.doi = doi.group(1) if doi else None
    return refs


def parse_pdf(path: Path, limits: ParseLimits = ParseLimits()) -> Iterator[Document]:
    """Parse one PDF paper into a Document whose blocks are page-anchored paragraphs."""
    import pymupdf

    check_file_size(path, limits)
    try:
        doc: Any = pymupdf.open(path)  # pymupdf's stubs miss most of its API
    except Exception as exc:
        raise ParseError(str(path), f"not a readable PDF ({exc})") from exc
    with doc:
        if doc.needs_pass or doc.is_encrypted:
            raise ParseError(str(path), "the PDF is encrypted; decrypt it (e.g. `qpdf --decrypt`) and retry")
        if doc.page_count > limits.max_pages:
            raise LimitExceededError(
                f"{path}: {doc.page_count} pages exceeds the limit of {limits.max_pages} (ingest.max_pages)"
            )
        lines: list[Line] = []
        stamp: re.Match[str] | None = None
        try:
            for page_no, page in enumerate(doc, start=1):
                for text in (
                    page.get_text("text").splitlines()[-40:] if stamp is None and page_no <= 2 else []
                ):
                    stamp = ARXIV_STAMP.match(text.strip()) or stamp
                lines.extend(page_lines(page, page_no, first_block=lines[-1].block + 1 if lines else 0))
        except Exception as exc:
            raise ParseError(str(path), f"text extraction failed ({exc})") from exc
        if sum(len(line.text) for line in lines) < 200:
            raise ParseError(str(path), "no text layer (image-only PDF?); OCR is not configured")
        document = _build_document(path, doc, paragraphs(lines), stamp)
        if numbers := title_page_numbers("\n".join(line.text for line in lines if line.page == 1)):
            document.extra["report_numbers"] = "; ".join(numbers)  # identity: HSF-TN-2016-01, CERN-EP-…
        yield document


def _build_document(path: Path, doc: Any, paragraphs: list[Para], stamp: re.Match[str] | None) -> Document:
    repeated = _repeated_lines(paragraphs, doc.page_count)
    body: list[Block] = []
    section: list[str] = []
    levels: list[int] = []  # the heading level of each entry of `section`
    ref_start: int | None = None
    abstract_page = 1
    toc_text: str | None = None  # inside a table of contents: skip until a heading it lists comes
    for i, p in enumerate(paragraphs):
        if re.sub(r"\d+", "#", p.text) in repeated:
            continue
        if p.text.strip().lower() in TOC_HEADINGS and toc_text is None and not body_has_sections(section):
            toc_text = ""
            continue
        if toc_text is not None:
            title = _bare_title(p.text)
            if not (p.is_heading and len(title) > 2 and title in toc_text):
                toc_text += " " + " ".join(p.text.casefold().split())
                continue
            toc_text = None
        if section == ["Abstract"] and p.page > abstract_page:
            section, levels = [], []  # letters have no section after the abstract
        if not p.is_heading and (
            _is_number_soup(p.text) or (p.page == 1 and not section and len(p.text.split()) < 12)
        ):
            continue  # axis ticks, table cells, front-matter lines
        if p.is_heading:
            heading = p.text.rstrip(".:")
            if heading.lower() == "abstract":
                abstract_page = p.page
            if heading.lower() in REFERENCE_HEADINGS:
                ref_start = i
                break
            while levels and levels[-1] >= p.level:  # close the sections this heading ends
                levels.pop()
                section = section[:-1]
            section, levels = [*section, heading], [*levels, p.level]
            continue
        kind = "caption" if p.kind == "caption" else "text"
        body.append(Block(text=p.text, page=p.page, section=list(section), kind=kind))
    references = _references(paragraphs[ref_start + 1 :]) if ref_start is not None else []

    arxiv_id = stamp.group("id") if stamp else None
    file_match = ARXIV_FILENAME.match(path.stem)
    if file_match and (arxiv_id is None or "v" not in arxiv_id):
        arxiv_id = file_match.group("id")
    date = _stamp_date(stamp.group("date")) if stamp else None
    first_pages = "\n".join(p.text for p in paragraphs if p.page <= 2)
    if arxiv_id:
        base, version = split_arxiv_id(arxiv_id)
        doc_id, links = f"arXiv:{arxiv_id}", arxiv_links(base, version)
    else:
        doc_id, links = f"pdf:{path.stem}", {}
    collaboration = find_collaboration(first_pages)
    return Document(
        doc_id=doc_id,
        title=_title(doc, paragraphs),
        authors=_authors(doc, collaboration),
        date=date,
        source="pdf",
        source_type="paper",
        collaboration=collaboration,
        links=links,
        path=str(path),
        blocks=body,
        references=references,
        extra={"pages": doc.page_count},
    )


def _is_number_soup(text: str) -> bool:
    """Mostly numbers and symbols (plot axes, table cells): junk for retrieval."""
    words = text.split()
    alpha = sum(1 for w in words if sum(ch.isalpha() for ch in w) >= 3)
    return len(words) >= 3 and alpha / len(words) < 0.35


def _bare_title(heading: str) -> str:
    """'1 Introduction 2' -> 'introduction' (numbering and trailing page number removed)."""
    match = NUMBERED_HEADING.match(heading)
    title = match.group("title") if match else heading
    return " ".join(re.sub(r"[\s.]*\d+$", "", title).casefold().split())


def body_has_sections(section: list[str]) -> bool:
    return bool(section) and section[0].lower() != "abstract"


def _stamp_date(text: str) -> dt.date | None:
    try:
        return dt.datetime.strptime(text, "%d %b %Y").date()
    except ValueError:
        return None


register(FileParser("pdf", suffix_is(".pdf"), parse_pdf))
