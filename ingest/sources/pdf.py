"""PDF papers with PyMuPDF: page-anchored paragraphs, sections from bold headings, references split off."""

from __future__ import annotations

import datetime as dt
import logging
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from heprag.index.errors import LimitExceededError, ParseError
from heprag.index.types import Block, Document, Reference
from heprag.ingest.sources.base import FileParser, ParseLimits, check_file_size, register, suffix_is
from heprag.ingest.sources.ids import arxiv_links, find_collaboration, split_arxiv_id

log = logging.getLogger(__name__)

ARXIV_STAMP = re.compile(
    r"^arXiv:(?P<id>(\d{4}\.\d{4,5}|[a-z-]+(\.[A-Z]{2})?/\d{7})(v\d+)?)"
    r"\s+\[[\w.-]+\]\s+(?P<date>\d{1,2} \w{3} \d{4})$"
)
ARXIV_FILENAME = re.compile(r"^(arXiv_)?(?P<id>\d{4}\.\d{4,5}(v\d+)?)$")
NUMBERED_HEADING = re.compile(
    r"^(?P<num>(\d{1,2}|[A-H])(\.\d{1,2}){0,3})\.?\s+(?P<title>[A-Z0-9\u0370-\u03ff].{1,100})$"
)
UNNUMBERED_HEADINGS = {
    "abstract", "introduction", "conclusion", "conclusions", "summary", "acknowledgments",
    "acknowledgements", "references", "bibliography", "references and notes", "appendix",
}  # fmt: skip
REFERENCE_HEADINGS = {"references", "bibliography", "references and notes"}
REFERENCE_START = re.compile(r"^\[(\d{1,4})\]\s*")
ONLY_NUMBER = re.compile(r"^\s*\d{1,4}\s*$")
SECTION_NUMBER = re.compile(r"^(\d{1,2}|[A-H])(\.\d{1,2}){0,3}\.?$")
INVISIBLE = re.compile(r"[\u00ad\u200b-\u200f\u2060\ufeff]")  # soft hyphen, zero-width spaces, BOM
BOLD_FLAG = 16


@dataclass
class _Para:
    text: str
    page: int
    is_heading: bool
    size: float


def _normalise(text: str) -> str:
    """NFKC (math italic 𝜇 → μ, ligatures ﬁ → fi, ⁻¹ → -1 style) and collapsed spaces."""
    text = INVISIBLE.sub("", unicodedata.normalize("NFKC", text)).replace("\u00a0", " ")
    return re.sub(r"[ \t]+", " ", text).strip()


def _page_paragraphs(page: object, page_no: int) -> Iterator[_Para]:
    import pymupdf

    flags = pymupdf.TEXT_DEHYPHENATE | pymupdf.TEXT_MEDIABOX_CLIP
    data = page.get_text("dict", flags=flags)  # type: ignore[attr-defined]
    number, number_size = "", 0.0  # LaTeX typesets a heading's number apart from its title: "3.1", "Results"
    for block in data["blocks"]:
        if block.get("type") != 0:
            continue
        current: list[str] = []
        size = 0.0
        for line in block["lines"]:
            if abs(line["dir"][0]) < 0.5:  # rotated text: the arXiv stamp in the margin
                continue
            spans = [s for s in line["spans"] if s["text"].strip()]
            if not spans:
                continue
            text = _normalise("".join(s["text"] for s in line["spans"]))
            bold = all(s["flags"] & BOLD_FLAG for s in spans)
            if bold and SECTION_NUMBER.match(text):
                number, number_size = text.rstrip("."), spans[0]["size"]
                continue
            if number and bold and abs(spans[0]["size"] - number_size) < 0.5 and not text[:1].isdigit():
                text = f"{number} {text}"
            number = ""
            if bold and _looks_like_heading(text):
                if current:
                    yield _Para(" ".join(current), page_no, False, size)
                    current = []
                yield _Para(text, page_no, True, spans[0]["size"])
                continue
            if ONLY_NUMBER.match(text):  # page and line numbers
                continue
            current.append(text)
            size = max(size, spans[0]["size"])
        if current:
            yield _Para(" ".join(current), page_no, False, size)


def _looks_like_heading(text: str) -> bool:
    if text.lower().rstrip(".:") in UNNUMBERED_HEADINGS:
        return True
    match = NUMBERED_HEADING.match(text)
    return bool(match and len(text.split()) <= 14 and not text.endswith((".", ",")))


def _repeated_lines(paragraphs: list[_Para], n_pages: int) -> set[str]:
    """Running headers/footers: short paragraphs that recur (digits ignored) on many pages."""
    if n_pages < 4:
        return set()
    pages_with: dict[str, set[int]] = {}
    for p in paragraphs:
        if len(p.text) < 120 and not p.is_heading:
            pages_with.setdefault(re.sub(r"\d+", "#", p.text), set()).add(p.page)
    return {text for text, pages in pages_with.items() if len(pages) >= max(3, n_pages // 2)}


def _title(doc: object, paragraphs: list[_Para]) -> str:
    meta_title = _normalise((doc.metadata or {}).get("title") or "")  # type: ignore[attr-defined]
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


def _references(paragraphs: list[_Para]) -> list[Reference]:
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
        doc = pymupdf.open(path)
    except Exception as exc:
        raise ParseError(str(path), f"not a readable PDF ({exc})") from exc
    with doc:
        if doc.needs_pass or doc.is_encrypted:
            raise ParseError(str(path), "the PDF is encrypted; decrypt it (e.g. `qpdf --decrypt`) and retry")
        if doc.page_count > limits.max_pages:
            raise LimitExceededError(
                f"{path}: {doc.page_count} pages exceeds the limit of {limits.max_pages} (ingest.max_pages)"
            )
        paragraphs: list[_Para] = []
        stamp: re.Match[str] | None = None
        try:
            for page_no, page in enumerate(doc, start=1):
                for line in page.get_text("text").splitlines()[-40:] if stamp is None else []:
                    stamp = ARXIV_STAMP.match(line.strip()) or stamp
                paragraphs.extend(_page_paragraphs(page, page_no))
        except Exception as exc:
            raise ParseError(str(path), f"text extraction failed ({exc})") from exc
        if sum(len(p.text) for p in paragraphs) < 200:
            raise ParseError(str(path), "no text layer (image-only PDF?); OCR is not configured")
        yield _build_document(path, doc, paragraphs, stamp)


def _build_document(
    path: Path, doc: object, paragraphs: list[_Para], stamp: re.Match[str] | None
) -> Document:
    repeated = _repeated_lines(paragraphs, doc.page_count)  # type: ignore[attr-defined]
    body_size = _median([p.size for p in paragraphs if not p.is_heading and len(p.text) > 200])
    body: list[Block] = []
    section: list[str] = []
    ref_start: int | None = None
    abstract_page = 1
    toc_titles: set[str] | None = None  # inside a table of contents: skip until one of its headings recurs
    for i, p in enumerate(paragraphs):
        if re.sub(r"\d+", "#", p.text) in repeated:
            continue
        if p.is_heading and body_size and p.size > 1.45 * body_size:
            p.is_heading = False  # the title, not a section heading
        if p.text.strip().lower() == "contents" and toc_titles is None and not body_has_sections(section):
            toc_titles = set()
            continue
        if toc_titles is not None:
            title = _bare_title(p.text)
            if not (p.is_heading and title in toc_titles):
                if p.is_heading:
                    toc_titles.add(title)
                continue
            toc_titles = None
        if section == ["Abstract"] and p.page > abstract_page:
            section = []  # letters have no section after the abstract
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
            section = _nest(section, heading)
            continue
        body.append(Block(text=p.text, page=p.page, section=list(section), kind="text"))
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
    return Document(
        doc_id=doc_id,
        title=_title(doc, paragraphs),
        date=date,
        source="pdf",
        source_type="paper",
        collaboration=find_collaboration(first_pages),
        links=links,
        path=str(path),
        blocks=body,
        references=references,
        extra={"pages": doc.page_count},  # type: ignore[attr-defined]
    )


def _is_number_soup(text: str) -> bool:
    """Mostly numbers and symbols (plot axes, table cells): junk for retrieval."""
    words = text.split()
    alpha = sum(1 for w in words if sum(ch.isalpha() for ch in w) >= 3)
    return len(words) >= 3 and alpha / len(words) < 0.35


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2] if values else 0.0


def _bare_title(heading: str) -> str:
    """'1 Introduction 2' -> 'introduction' (numbering and trailing page number removed)."""
    match = NUMBERED_HEADING.match(heading)
    title = match.group("title") if match else heading
    return re.sub(r"[\s.]*\d+$", "", title).strip().lower()


def body_has_sections(section: list[str]) -> bool:
    return bool(section) and section[0].lower() != "abstract"


def _nest(current: list[str], heading: str) -> list[str]:
    """Place a heading in the section path using its number depth ("3.1 X" under "3 Y")."""
    match = NUMBERED_HEADING.match(heading)
    if not match:
        return [heading]
    depth = match.group("num").count(".") + 1
    return [*current[: depth - 1], heading]


def _stamp_date(text: str) -> dt.date | None:
    try:
        return dt.datetime.strptime(text, "%d %b %Y").date()
    except ValueError:
        return None


register(FileParser("pdf", suffix_is(".pdf"), parse_pdf))
