"""JSONL record files: unarXive full-text papers and abstract listings (arXiv, INSPIRE), one Document a line.

The format is recognised from the keys of the first valid record. A malformed line (bad JSON, a
missing field, a line longer than `limits.max_line_chars`) is skipped, logged with file and line, and
counted in `RecordStats`; it never fails the file.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from heprag.index.errors import LimitExceededError, ParseError
from heprag.index.types import Block, Document, Reference
from heprag.ingest.sources.base import FileParser, ParseLimits, check_file_size, register, suffix_is
from heprag.ingest.sources.ids import arxiv_links, find_collaboration, split_arxiv_id
from heprag.ingest.sources.latex import ARXIV_NAME, latex_to_text

log = logging.getLogger(__name__)

PLACEHOLDER = re.compile(r"\{\{(formula|cite|figure|table):([^{}]+)\}\}")
LATEX_HINT = re.compile(r"[$\\{}^]")
MATH = re.compile(r"\$\$?(.+?)\$\$?|\\\((.+?)\\\)")
Record = dict[str, Any]


@dataclass
class RecordStats:
    """What happened to the lines of one JSONL file."""

    lines: int = 0
    documents: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason)


def clean_latex(text: str) -> str:
    """Plain text from an abstract or title that may hold raw LaTeX; plain text passes unchanged.

    Only the math is converted when the prose around it has no LaTeX (6x faster with pylatexenc)."""
    text = " ".join(str(text).split())
    if not LATEX_HINT.search(text):
        return text
    text = re.sub(r"\\[a-zA-Z]*cite[a-zA-Z]*\*?\s*(\[[^\]]*\]\s*)*\{[^{}]*\}", "", text)
    if not re.search(r"[\\{}]", MATH.sub(" ", text)):
        return " ".join(MATH.sub(lambda m: latex_to_text(f"${m.group(1) or m.group(2)}$"), text).split())
    text = re.sub(r"(?<!\\)([%&#])", r"\\\1", text)  # literal in abstracts, special to LaTeX
    return " ".join(latex_to_text(text).split())


def _arxiv_doc_id(raw: str) -> tuple[str, dict[str, str]]:
    match = ARXIV_NAME.match(raw.strip())
    if not match:
        raise ValueError(f"'{raw}' is not an arXiv id")
    base, version = split_arxiv_id(match.group("id"))
    return f"arXiv:{match.group('id')}", arxiv_links(base, version)


def _abstract_block(text: str) -> Block:
    abstract = clean_latex(text)
    if not abstract:
        raise ValueError("empty abstract")
    return Block(text=abstract, section=["Abstract"], kind="abstract")


def _arxiv_listing(record: Record) -> Document:
    """{id, title, authors[], categories[], abstract, listing_date} (arXiv 'new' listings)."""
    doc_id, links = _arxiv_doc_id(str(record["id"]))
    title, authors = clean_latex(record.get("title") or ""), [str(a) for a in record.get("authors") or []]
    date = record.get("listing_date")
    abstract = _abstract_block(record["abstract"])
    return Document(
        doc_id=doc_id,
        title=title,
        authors=authors,
        date=dt.date.fromisoformat(date) if date else None,
        source="arxiv",
        collaboration=find_collaboration(" ".join([title, *authors, abstract.text])),
        categories=[str(c) for c in record.get("categories") or []],
        links=links,
        blocks=[abstract],
        extra={"record_format": "arxiv-listing", "listing_date": date},
    )


def _inspire_abstract(record: Record) -> Document:
    """{inspire_recid, title, abstract, labels[]} (INSPIRE-HEP title+abstract records)."""
    recid = str(record["inspire_recid"]).strip()
    if not recid.isdigit():
        raise ValueError(f"inspire_recid '{recid}' is not a number")
    title, abstract = clean_latex(record.get("title") or ""), _abstract_block(record["abstract"])
    return Document(
        doc_id=f"inspire:{recid}",
        title=title,
        source="inspire",
        collaboration=find_collaboration(f"{title} {abstract.text}"),
        categories=[str(c) for c in record.get("labels") or []],
        links={"inspire": f"https://inspirehep.net/literature/{recid}"},
        blocks=[abstract],
        extra={"record_format": "inspire-abstracts"},
    )


@dataclass
class _Unarxive:
    """One unarXive paper: placeholders resolved, sections nested by number, captions after first mention."""

    record: Record
    references: list[Reference] = field(default_factory=list)
    cited: dict[str, int] = field(default_factory=dict)
    floats: dict[str, str] = field(default_factory=dict)  # ref id -> "Figure 2"
    pending: list[str] = field(default_factory=list)

    def fill(self, text: str) -> str:
        entries, bib = self.record.get("ref_entries") or {}, self.record.get("bib_entries") or {}

        def replace(match: re.Match[str]) -> str:
            kind, key = match.groups()
            entry = entries.get(key) or {}
            if kind == "formula":
                return f"${entry.get('latex', '').strip()}$" if entry.get("latex") else ""
            if kind == "cite":
                if key not in self.cited:
                    self.cited[key] = len(self.cited) + 1
                    self.references.append(_bib_reference(key, bib.get(key) or {}))
                return f"[{self.cited[key]}]"
            if key not in self.floats:
                self.floats[key] = (
                    f"{kind.title()} {sum(k.startswith(kind.title()) for k in self.floats.values()) + 1}"
                )
                if entry.get("caption"):
                    self.pending.append(f"{self.floats[key]}: {' '.join(str(entry['caption']).split())}")
            return self.floats[key]

        return PLACEHOLDER.sub(replace, text)

    def document(self) -> Document:
        meta = self.record.get("metadata") or {}
        versions = [v.get("version", "") for v in meta.get("versions") or [] if isinstance(v, dict)]
        paper_id = str(self.record["paper_id"]) + (
            versions[-1] if versions and "v" not in str(self.record["paper_id"]) else ""
        )
        doc_id, links = _arxiv_doc_id(paper_id)
        abstract_text = (self.record.get("abstract") or {}).get("text") or meta.get("abstract") or ""
        blocks = [_abstract_block(abstract_text)] if clean_latex(abstract_text) else []
        titles: dict[str, str] = {}
        for paragraph in self.record["body_text"]:
            number, title = str(paragraph.get("sec_number") or ""), self.fill(paragraph.get("section") or "")
            if title and number not in ("", "-1"):
                titles[number] = f"{number} {title}"
            parts = number.split(".") if number not in ("", "-1") else []
            path = [titles[p] for p in (".".join(parts[: i + 1]) for i in range(len(parts))) if p in titles]
            text = " ".join(self.fill(str(paragraph["text"])).split())
            blocks += (
                [Block(text=text, section=path or ([title] if title else []), kind="text")] if text else []
            )
            blocks += [
                Block(text=c, section=blocks[-1].section if blocks else [], kind="caption")
                for c in self.pending
            ]
            self.pending = []
        if not blocks:
            raise ValueError("no abstract and no body text")
        authors = [
            " ".join(p for p in (a[1], a[0], a[2]) if p)
            for a in meta.get("authors_parsed") or []
            if len(a) >= 3
        ]
        title = clean_latex(meta.get("title") or "")
        created = next(
            (v.get("created") for v in reversed(meta.get("versions") or []) if isinstance(v, dict)), None
        )
        if meta.get("doi"):
            links["doi"] = f"https://doi.org/{meta['doi']}"
        return Document(
            doc_id=doc_id,
            title=title,
            authors=authors,
            date=email.utils.parsedate_to_datetime(created).date() if created else None,
            source="unarxive",
            collaboration=find_collaboration(
                " ".join([title, str(meta.get("authors") or ""), blocks[0].text])
            ),
            categories=str(meta.get("categories") or "").split(),
            links=links,
            blocks=blocks,
            references=self.references,
            extra={
                "record_format": "unarxive",
                "license": meta.get("license"),
                "journal_ref": meta.get("journal-ref"),
            },
        )


def _bib_reference(key: str, entry: Record) -> Reference:
    ids = entry.get("ids") or {}
    contained = [c.get("id") if isinstance(c, dict) else c for c in entry.get("contained_arXiv_ids") or []]
    arxiv = ids.get("arxiv_id") or next((str(c) for c in contained if c), None)
    return Reference(
        key=key,
        text=" ".join(str(entry.get("bib_entry_raw") or key).split()),
        arxiv_id=arxiv or None,
        doi=ids.get("doi") or None,
    )


FORMATS: dict[str, tuple[set[str], Callable[[Record], Document]]] = {
    "unarxive": ({"paper_id", "body_text"}, lambda r: _Unarxive(r).document()),
    "arxiv-listing": ({"id", "abstract"}, _arxiv_listing),
    "inspire-abstracts": ({"inspire_recid", "abstract"}, _inspire_abstract),
}


def _lines(path: Path, limits: ParseLimits) -> Iterator[tuple[int, str | None]]:
    """(line number, text), or (number, None) for a line longer than `limits.max_line_chars`."""
    with path.open(encoding="utf-8", errors="replace") as handle:
        number = 0
        while line := handle.readline(limits.max_line_chars + 1):
            number += 1
            if len(line) > limits.max_line_chars and not line.endswith("\n"):
                while (rest := handle.readline(1 << 16)) and not rest.endswith("\n"):
                    pass
                yield number, None
            else:
                yield number, line


def parse_jsonl(
    path: Path, limits: ParseLimits = ParseLimits(), stats: RecordStats | None = None
) -> Iterator[Document]:
    """One Document per record of a JSONL file in one of `FORMATS`; bad lines are skipped and counted."""
    check_file_size(path, limits)
    stats = stats if stats is not None else RecordStats()
    convert: Callable[[Record], Document] | None = None

    def skip(number: int, reason: str) -> None:
        stats.skipped.append((number, reason))
        log.warning("%s:%d: skipped record (%s)", path, number, reason)

    for number, line in _lines(path, limits):
        stats.lines = number
        if line is None:
            skip(number, f"line longer than {limits.max_line_chars:,} characters (ingest.max_line_chars)")
            continue
        if not line.strip():
            continue
        if stats.documents + len(stats.skipped) >= limits.max_records_per_file:
            raise LimitExceededError(
                f"{path}: more than {limits.max_records_per_file:,} records "
                "(raise ingest.max_records_per_file, or split the file)"
            )
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            skip(number, f"invalid JSON: {exc.msg} at column {exc.colno}")
            continue
        if not isinstance(record, dict):
            skip(number, "not a JSON object")
            continue
        if convert is None:
            convert = next((fn for keys, fn in FORMATS.values() if keys <= record.keys()), None)
            if convert is None:
                raise ParseError(
                    str(path),
                    f"unknown JSONL record format (keys {sorted(record)[:8]}); heprag reads "
                    + "; ".join(f"{name}: {sorted(keys)}" for name, (keys, _) in FORMATS.items()),
                )
        try:
            document = convert(record)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            skip(number, f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
            continue
        document.path = str(path)
        stats.documents += 1
        yield document
    if stats.skipped:
        log.warning("%s: %d of %d lines skipped as malformed", path, len(stats.skipped), stats.lines)
    if stats.documents == 0:
        reason = (
            f"all {len(stats.skipped)} records are malformed"
            if stats.skipped
            else "the file holds no records"
        )
        raise ParseError(str(path), reason)


register(FileParser("jsonl-records", suffix_is(".jsonl"), parse_jsonl))
