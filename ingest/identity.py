"""Document identity: what a parsed input *is* (arXiv id, INSPIRE recid, DOI, report number, logbook
entry), or, for a file with none of these, its path under the ingest root plus a short content hash.

Each parsed document becomes a `Representation` carrying its `SourceFile` and its identity keys;
`heprag.ingest.merge` joins the representations that share a key into one document.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from heprag.index.types import Document, SourceFile
from heprag.ingest.discover import Found
from heprag.ingest.sources.ids import (
    normal_report_number,
    report_numbers,
    split_arxiv_id,
    title_page_numbers,
)

# Ids parsers derive from a bare file name: never an identity, replaced by a path id.
WEAK_PREFIXES = ("pdf:", "tex:", "text:", "md:", "html:", "nougat:")
# Parsers of files holding many records: a source then names its record.
RECORD_PARSERS = frozenset({"jsonl-records", "elog", "shiftlog", "inspire-marcxml", "inspire-json"})
# Sources that are metadata (abstract, authors, journal), not a paper's full text.
METADATA_SOURCES = frozenset({"inspire", "arxiv"})
TITLED_TEXTS = frozenset({"pdf", "latex", "latex-archive", "nougat"})
FRONT_END = re.compile(r"\\begin\s*\{abstract\}|\\abstract\s*\{|\\section\*?\s*\{|\\maketitle")
FRONT_CHARS = 20_000
TITLE_KEY_WORDS = 5  # a full text's title joins it to another format of the paper from this length


@dataclass
class Representation:
    """One parsed input (a file, or one record of a file) with the identity keys it claims."""

    doc: Document
    source: SourceFile
    order: int
    file_hash: str
    keys: set[str] = field(default_factory=set)
    report_numbers: list[str] = field(default_factory=list)

    @property
    def is_metadata(self) -> bool:
        """An abstract-only record (INSPIRE, arXiv listing): it lends metadata, not text."""
        return self.doc.source in METADATA_SOURCES and all(
            b.kind in ("abstract", "caption") for b in self.doc.blocks
        )

    @property
    def weak(self) -> bool:
        return self.doc.doc_id.startswith(WEAK_PREFIXES)

    @property
    def arxiv(self) -> tuple[str, int | None] | None:
        return arxiv_of(self.doc)

    def path_id(self) -> str:
        """'tex:a/main@1f2e3d4c': the parser's prefix, the path under the root, a short content hash."""
        prefix = self.doc.doc_id.split(":", 1)[0]
        rel = self.source.path.rsplit(".", 1)[0] if "." in Path(self.source.path).name else self.source.path
        return f"{prefix}:{rel}@{self.file_hash}"


def arxiv_of(doc: Document) -> tuple[str, int | None] | None:
    """(base id, version) when the document is an arXiv paper or its record names one."""
    raw = doc.doc_id.removeprefix("arXiv:") if doc.doc_id.startswith("arXiv:") else doc.extra.get("arxiv_id")
    return split_arxiv_id(str(raw)) if raw else None


def recid_of(doc: Document) -> str | None:
    if doc.doc_id.startswith("inspire:"):
        return doc.doc_id.removeprefix("inspire:")
    recid = doc.extra.get("inspire_recid")
    return str(recid) if recid not in (None, "") else None


def doi_of(doc: Document) -> str | None:
    raw = doc.extra.get("doi") or doc.links.get("doi")
    if not raw:
        return None
    return re.sub(r"^(https?://(dx\.)?doi\.org/|doi:)", "", str(raw).strip(), flags=re.I).lower() or None


def front_matter(path: Path, parser: str) -> str:
    """The title page of a LaTeX file (its document up to the abstract); a PDF's parser reads its own."""
    if parser != "latex":
        return ""
    from heprag.ingest.sources.latex import BEGIN_DOC, strip_comments

    with path.open("rb") as handle:
        text = strip_comments(handle.read(200_000).decode("utf-8", "replace"))
    begin = BEGIN_DOC.search(text)
    text = text[begin.end() :] if begin else text
    end = FRONT_END.search(text)
    return text[: end.start() if end else FRONT_CHARS][:FRONT_CHARS]


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:8]


def representations(found: Found, docs: list[Document], order: int) -> list[Representation]:
    """The representations of one parsed file, each with its identity keys."""
    parser = found.parser.name if found.parser else ""
    records = parser in RECORD_PARSERS or len(docs) > 1
    digest = file_hash(found.path)
    front = "" if records else front_matter(found.path, parser)
    reps = []
    for i, doc in enumerate(docs):
        source = SourceFile(
            path=found.relpath,
            abs_path=str(found.path.resolve()),
            record=doc.doc_id.split(":", 1)[-1] if records else None,
            parser=parser,
        )
        rep = Representation(doc, source, order + i, digest)
        rep.report_numbers = _claimed_report_numbers(doc, None if records else found.path, front)
        rep.keys = _keys(rep, found.path)
        reps.append(rep)
    return reps


def _claimed_report_numbers(doc: Document, path: Path | None, front: str) -> list[str]:
    """From the file name (not for a file of many records), the title page, and the record itself."""
    listed = [normal_report_number(r.strip()) for r in str(doc.extra.get("report_numbers") or "").split(";")]
    named = report_numbers(path.stem) if path else []
    return list(dict.fromkeys([*named, *title_page_numbers(front), *filter(None, listed)]))


def _keys(rep: Representation, path: Path) -> set[str]:
    doc, keys = rep.doc, set()
    if not rep.weak:
        keys.add(f"id:{doc.doc_id}")
    if arxiv := rep.arxiv:
        keys.add(f"arxiv:{arxiv[0]}")
    if recid := recid_of(doc):
        keys.add(f"inspire:{recid}")
    if doi := doi_of(doc):
        keys.add(f"doi:{doi}")
    keys.update(f"report:{r}" for r in rep.report_numbers)
    if rep.source.parser in ("pdf", "latex"):  # x.pdf beside x.tex is its compiled output
        keys.add(f"pair:{path.resolve().parent}/{path.stem}")
    title = " ".join(re.findall(r"\w+", doc.title.casefold()))
    if rep.source.parser in TITLED_TEXTS and len(title.split()) >= TITLE_KEY_WORDS:
        keys.add(f"title:{title}")
    return keys


def strong_id(reps: list[Representation]) -> str | None:
    """The id a group of representations of one paper gets, None when they have no identity."""
    versions = [a for r in reps if (a := r.arxiv) and r.doc.doc_id.startswith("arXiv:")]
    if versions:
        base = versions[0][0]
        top = max((v for b, v in versions if b == base and v), default=None)
        return f"arXiv:{base}v{top}" if top else f"arXiv:{base}"
    for prefix in ("inspire:", ""):
        own = [r.doc.doc_id for r in reps if not r.weak and r.doc.doc_id.startswith(prefix)]
        if own:
            return own[0]
    numbers = [n for r in reps for n in r.report_numbers]
    if numbers:
        return f"report:{numbers[0]}"
    dois = [d for r in reps if (d := doi_of(r.doc))]
    return f"doi:{dois[0]}" if dois else None
