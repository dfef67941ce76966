"""Plain text, Markdown (sections from `#` headings), HTML (visible text only) and Nougat full text.

Nougat (Meta's PDF-to-markdown OCR) writes `.mmd` files: markdown headings, LaTeX math (`\\(..\\)`,
`\\[..\\]`), `\\begin{table}` blocks and `[MISSING_PAGE_...]` markers. The ATLAS papers scraped from
CERN CDS keep it as `CDS_Record_<id>/latex.txt` with a `meta_info.txt` (title, URL) beside it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

from heprag.index.errors import ParseError
from heprag.index.types import Block, BlockKind, Document, Reference
from heprag.ingest.sources.base import FileParser, ParseLimits, check_file_size, register, suffix_is
from heprag.ingest.sources.ids import arxiv_links, find_collaboration, split_arxiv_id
from heprag.ingest.sources.latex import ARXIV_NAME, latex_to_text

log = logging.getLogger(__name__)

HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
FENCE = re.compile(r"^\s*(```|~~~)")
CDS_FOLDER = re.compile(r"^CDS_Record_(\d+)$")
MISSING_PAGE = re.compile(r"\[MISSING_PAGE_\w+:\d+\]")
CAPTION = re.compile(r"^(Figure|Fig\.|Table)\s+\d+[a-z]?[:.]")
REFERENCE_ITEM = re.compile(r"^\s*[*-]?\s*\[(\d{1,4})\]\s*(.+)$")
REFERENCE_HEADINGS = {"references", "bibliography", "references and notes"}
HTML_SKIP = frozenset({"script", "style", "noscript", "template", "svg", "iframe", "object"})
HTML_BLOCK = frozenset({
    "p", "div", "li", "br", "tr", "section", "article", "pre", "blockquote", "table", "ul", "ol", "dd",
    "dt", "main", "header", "footer", "nav", "aside", "form", "hr", "figure",
})  # fmt: skip


def read_text(path: Path, limits: ParseLimits) -> str:
    """The file's text (UTF-8, or Latin-1 when it is not valid UTF-8), size-checked."""
    check_file_size(path, limits)
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _doc_id(prefix: str, path: Path) -> str:
    """'md:docs/README': the folder keeps the many README/notes files apart."""
    return f"{prefix}:{path.resolve().parent.name}/{path.stem}"


def _document(path: Path, prefix: str, blocks: list[Block], title: str, **fields: object) -> Document:
    if not blocks:
        raise ParseError(str(path), "the file has no text")
    start = " ".join([title, *(b.text for b in blocks[:10])])
    fields.setdefault("doc_id", _doc_id(prefix, path))
    fields.setdefault("collaboration", find_collaboration(start))
    fields.setdefault("source", "text")
    fields.setdefault("source_type", "note")
    return Document(title=title, path=str(path), blocks=blocks, **fields)


def _paragraphs(text: str) -> list[str]:
    return [" ".join(p.split()) for p in re.split(r"\n[ \t]*\n", text) if p.strip()]


def parse_text(path: Path, limits: ParseLimits = ParseLimits()) -> Iterator[Document]:
    """A plain `.txt` file: one block per paragraph; the first short line is the title."""
    text = read_text(path, limits)
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    blocks = [Block(text=p) for p in _paragraphs(text)]
    yield _document(path, "text", blocks, first if len(first) <= 200 else "")


def _nest(path: list[tuple[int, str]], level: int, title: str) -> list[tuple[int, str]]:
    return [*(p for p in path if p[0] < level), (level, title)]


def _markdown_inline(text: str) -> str:
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links and images keep their text
    text = re.sub(r"<!--.*?-->|<[^>]+>", " ", text, flags=re.S)
    return re.sub(r"(\*\*|__|`)(.+?)\1", r"\2", text)


def parse_markdown(path: Path, limits: ParseLimits = ParseLimits()) -> Iterator[Document]:
    """A Markdown file: `#` headings (outside code fences) nest the section path; front matter title."""
    text = read_text(path, limits)
    title = ""
    if front := re.match(r"^---\s*\n(.*?)\n---\s*\n", text, re.S):
        found = re.search(r"^title:\s*['\"]?(.+?)['\"]?\s*$", front.group(1), re.M)
        title, text = (found.group(1) if found else ""), text[front.end() :]
    headings = [HEADING.match(line) for line in text.splitlines() if not FENCE.match(line)]
    tops = [m for m in headings if m and len(m.group(1)) == 1]
    title_heading = tops[0].group(2).strip() if len(tops) == 1 and not title else None
    blocks: list[Block] = []
    path_: list[tuple[int, str]] = []
    buffer: list[str] = []
    fenced = False

    def flush() -> None:
        for paragraph in _paragraphs("\n".join(buffer)):
            blocks.append(Block(text=paragraph, section=[t for _, t in path_]))
        buffer.clear()

    for line in text.splitlines():
        if FENCE.match(line):  # a code block is a paragraph of its own
            if not fenced:
                flush()
            buffer.append(line)
            fenced = not fenced
            if not fenced:
                flush()
            continue
        heading = None if fenced else HEADING.match(line)
        if heading:
            flush()
            name = _markdown_inline(heading.group(2)).strip()
            if name != title_heading:
                path_ = _nest(path_, len(heading.group(1)), name)
            continue
        buffer.append(line if fenced else _markdown_inline(line))
    flush()
    yield _document(path, "md", blocks, title or title_heading or "")


class _HtmlText(HTMLParser):
    """Visible text of an HTML page, split at block elements, headings nesting the section path."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title = ""
        self.blocks: list[Block] = []
        self.path: list[tuple[int, str]] = []
        self.text: list[str] = []
        self.skip_depth, self.in_title, self.heading, self.kind = 0, False, 0, "text"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in HTML_SKIP:
            self.skip_depth += 1
        elif tag == "title":
            self.in_title = True
        elif re.fullmatch(r"h[1-6]", tag) or tag in HTML_BLOCK or tag in ("figcaption", "caption"):
            self.flush()
            self.heading = int(tag[1]) if re.fullmatch(r"h[1-6]", tag) else 0
            self.kind = "caption" if tag in ("figcaption", "caption") else "text"

    def handle_endtag(self, tag: str) -> None:
        if tag in HTML_SKIP:
            self.skip_depth = max(0, self.skip_depth - 1)
        elif tag == "title":
            self.in_title = False
        elif re.fullmatch(r"h[1-6]", tag) or tag in HTML_BLOCK or tag in ("figcaption", "caption"):
            self.flush()

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title += data
        elif not self.skip_depth:
            self.text.append(data)

    def flush(self) -> None:
        text = " ".join("".join(self.text).split())
        self.text = []
        if self.heading and text:
            self.path = _nest(self.path, self.heading, text)
            self.title = self.title or (text if self.heading == 1 else "")
        elif text:
            kind: BlockKind = "caption" if self.kind == "caption" else "text"
            self.blocks.append(Block(text=text, section=[t for _, t in self.path], kind=kind))
        self.heading, self.kind = 0, "text"


def parse_html(path: Path, limits: ParseLimits = ParseLimits()) -> Iterator[Document]:
    """An HTML page: visible text only (scripts, styles and the head dropped), sections from h1-h6."""
    parser = _HtmlText()
    parser.feed(read_text(path, limits))
    parser.close()
    parser.flush()
    yield _document(path, "html", parser.blocks, " ".join(parser.title.split()))


def _table(latex: str) -> str:
    body = re.sub(r"\\(?:begin|end)\{[a-z*]+\}(\{[^}]*\})?|\\(?:hline|cline\{[^}]*\}|[a-z]*rule)", " ", latex)
    rows = [[_math(c) for c in re.split(r"(?<!\\)&", row)] for row in re.split(r"\\\\", body)]
    return "\n".join(
        " | ".join(" ".join(c.split()) for c in row) for row in rows if any(c.strip() for c in row)
    )


def _math(text: str) -> str:
    """Inline `\\(..\\)` math to text (as a PDF shows it); display `\\[..\\]` math stays LaTeX."""
    text = re.sub(r"\\\((.+?)\\\)", lambda m: latex_to_text(f"${m.group(1)}$"), text)
    text = re.sub(r"\[FOOTNOTE:[^\]]*\]|\[ENDFOOTNOTE\]", " ", text)
    return re.sub(r"\*\*(.+?)\*\*|(?<!\w)_([^_\n]+)_(?!\w)", lambda m: m.group(1) or m.group(2), text)


def parse_nougat(path: Path, limits: ParseLimits = ParseLimits()) -> Iterator[Document]:
    """Nougat markdown (`.mmd`, or an ATLAS `CDS_Record_<id>/latex.txt`): sections, captions, references."""
    cds = CDS_FOLDER.match(path.parent.name)
    if path.name == "meta_info.txt":
        return  # metadata of the latex.txt beside it
    text = read_text(path, limits)
    missing = len(MISSING_PAGE.findall(text))
    blocks: list[Block] = []
    references: list[Reference] = []
    section: list[tuple[int, str]] = []
    kind: BlockKind = "text"
    for paragraph in re.split(r"\n[ \t]*\n", MISSING_PAGE.sub("\n\n", text)):
        paragraph = paragraph.strip()
        if heading := HEADING.match(paragraph.split("\n")[0]):
            name = _math(heading.group(2)).strip()
            bare = name.lower().rstrip(".")
            kind = "abstract" if bare == "abstract" else "text"
            body = [s for s in section if s[0] > 0]  # the Abstract/References pseudo-sections end here
            section = [(0, "Abstract")] if kind == "abstract" else _nest(body, len(heading.group(1)), name)
            section = [(0, "References")] if bare in REFERENCE_HEADINGS else section
            paragraph = paragraph.split("\n", 1)[1].strip() if "\n" in paragraph else ""
        if not paragraph or paragraph in ("[", "]"):
            continue
        if section and section[0][1] == "References":
            for line in paragraph.splitlines():
                if item := REFERENCE_ITEM.match(line):
                    references.append(_reference(item.group(1), _math(item.group(2))))
                elif references:
                    references[-1].text += " " + _math(line.strip())
            continue
        if paragraph.startswith("\\begin{table}"):
            caption = re.search(r"\\caption\{(.+?)\}\s*$", paragraph, re.M)
            if caption:
                blocks.append(
                    Block(text=_math(caption.group(1)), section=[t for _, t in section], kind="caption")
                )
            paragraph, block_kind = _table(paragraph), "table"
        else:
            paragraph = " ".join(_math(paragraph).split())
            block_kind = "caption" if CAPTION.match(paragraph) else kind
            if kind == "abstract":  # nougat's abstract is one paragraph; keywords and notes follow
                kind, section = "text", []
        blocks.append(Block(text=paragraph, section=[t for _, t in section], kind=block_kind))
    meta = _cds_meta(path.parent / "meta_info.txt") if cds else {}
    title = latex_to_text(meta.get("PAPER NAME", "")).strip() or (blocks[0].text[:300] if blocks else "")
    fields: dict[str, object] = {"references": references, "source_type": "paper", "source": "nougat"}
    if cds:
        fields |= {
            "doc_id": f"cds:{cds.group(1)}",
            "links": {"cds": meta.get("URL") or f"https://cds.cern.ch/record/{cds.group(1)}"},
        }
    elif match := ARXIV_NAME.match(path.stem):
        base, version = split_arxiv_id(match.group("id"))
        fields |= {"doc_id": f"arXiv:{match.group('id')}", "links": arxiv_links(base, version)}
    fields["extra"] = {"missing_pages": missing, "cds_modified": meta.get("LAST MODIFICATION DATE")}
    yield _document(path, "nougat", blocks, title, **fields)


def _reference(key: str, text: str) -> Reference:
    arxiv = re.search(r"arXiv:\s*(\d{4}\.\d{4,5}|[a-z-]+/\d{7})", text)
    doi = re.search(r"doi:\s*(10\.\S+?)[\],;]?(\s|$)", text)
    return Reference(
        key=key, text=text, arxiv_id=arxiv.group(1) if arxiv else None, doi=doi.group(1) if doi else None
    )


def _cds_meta(path: Path) -> dict[str, str]:
    """`KEY : value` lines of a CDS meta_info.txt."""
    if not path.is_file():
        return {}
    pairs = (
        line.split(":", 1) for line in path.read_text("utf-8", errors="replace").splitlines() if ":" in line
    )
    return {key.strip(): value.strip() for key, value in pairs}


def _is_nougat(path: Path) -> bool:
    in_cds = bool(CDS_FOLDER.match(path.parent.name)) and path.name in ("latex.txt", "meta_info.txt")
    return in_cds or path.suffix.lower() == ".mmd"


register(FileParser("text", suffix_is(".txt"), parse_text))
register(FileParser("markdown", suffix_is(".md", ".markdown"), parse_markdown))
register(FileParser("html", suffix_is(".html", ".htm", ".xhtml"), parse_html))
register(FileParser("nougat", _is_nougat, parse_nougat))
