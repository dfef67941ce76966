"""Structure-aware chunking: sections -> paragraphs -> sentences, packed to the embedder's token budget."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

from heprag.index.types import Block, Chunk, Document
from heprag.ingest.sentences import split_sentences

TokenCounter = Callable[[Sequence[str]], list[int]]
WHOLE_KINDS = {"caption", "equation", "table"}  # kept whole, never split into sentences


@dataclass(frozen=True)
class ChunkSettings:
    """Token budget per chunk (measured with the embedder's tokenizer), overlap and merging."""

    max_tokens: int = 230
    overlap_sentences: int = 1
    min_tokens: int = 48

    def key(self) -> str:
        return ",".join(f"{k}={v}" for k, v in asdict(self).items())


@dataclass
class _Unit:
    text: str
    block: Block
    start: int
    end: int
    tokens: int = 0


def word_token_counter(texts: Sequence[str]) -> list[int]:
    """Rough counter (1.3 tokens per word) for when no tokenizer is at hand."""
    return [int(len(t.split()) * 1.3) + 1 for t in texts]


def section_label(section: list[str]) -> str:
    """'§5.2' for numbered sections, else the innermost title shortened."""
    if not section:
        return ""
    inner = section[-1]
    match = re.match(r"^((\d+|[A-H])(\.\d+)*)\.?\s", inner)
    if match:
        return f"§{match.group(1)}"
    return f"§{inner[:40]}" if inner.lower() != "abstract" else "abstract"


def citation_label(doc: Document, section: list[str], page_start: int | None, page_end: int | None) -> str:
    """The human citation: 'ATLAS 2007.07830v2 §5, p. 12' or 'ISOLDE elog #412, 2024-05-03 14:20, J. Doe'."""
    if doc.source_type == "logbook":
        parts = [f"{doc.extra.get('logbook', '')} elog #{doc.extra.get('entry_id', '')}".strip()]
        parts += [str(doc.extra[k]) for k in ("time", "author") if doc.extra.get(k)]
        return ", ".join(parts)
    parts = [doc.short_name]
    if label := section_label(section):
        parts.append(" " + label)
    if page_start is not None:
        pages = f"p. {page_start}" if page_end in (None, page_start) else f"pp. {page_start}-{page_end}"
        parts.append(", " + pages)
    return "".join(parts)


def _units(doc: Document) -> list[_Unit]:
    units: list[_Unit] = []
    offset = 0
    for block in doc.blocks:
        if block.kind in WHOLE_KINDS:
            units.append(_Unit(block.text, block, offset, offset + len(block.text)))
        else:
            units.extend(
                _Unit(block.text[s:e], block, offset + s, offset + e) for s, e in split_sentences(block.text)
            )
        offset += len(block.text) + 2  # blocks are joined by a blank line
    return units


def _split_long(unit: _Unit, max_tokens: int) -> list[_Unit]:
    """Cut a unit longer than the budget at word boundaries (tokens estimated per word)."""
    words = unit.text.split(" ")
    per_word = unit.tokens / max(len(words), 1)
    step = max(1, int(max_tokens / max(per_word, 1e-6)))
    pieces, cursor = [], unit.start
    for i in range(0, len(words), step):
        text = " ".join(words[i : i + step])
        pieces.append(
            _Unit(text, unit.block, cursor, cursor + len(text), int(per_word * len(text.split(" "))))
        )
        cursor += len(text) + 1
    return pieces


def chunk_document(
    doc: Document, count_tokens: TokenCounter = word_token_counter, settings: ChunkSettings = ChunkSettings()
) -> list[Chunk]:
    """Pack a document's sentences into chunks that never cross a caption boundary or exceed the budget."""
    units = _units(doc)
    for unit, n in zip(units, count_tokens([u.text for u in units]), strict=True):
        unit.tokens = n
    packed: list[list[_Unit]] = []
    current: list[_Unit] = []
    budget = settings.max_tokens

    def flush(keep_overlap: bool) -> None:
        nonlocal current
        if current:
            packed.append(current)
        tail = current[-settings.overlap_sentences :] if keep_overlap and settings.overlap_sentences else []
        current = [u for u in tail if sum(t.tokens for t in tail) < budget // 3]

    for unit in units:
        pieces = _split_long(unit, budget) if unit.tokens > budget else [unit]
        for piece in pieces:
            prev = current[-1].block if current else None
            whole = piece.block.kind in WHOLE_KINDS
            boundary = prev is not None and (
                ((whole or prev.kind in WHOLE_KINDS) and prev is not piece.block)
                or (
                    prev.section != piece.block.section
                    and sum(u.tokens for u in current) >= settings.min_tokens
                )
            )
            if boundary:
                flush(keep_overlap=False)
            if current and sum(u.tokens for u in current) + piece.tokens > budget:
                flush(keep_overlap=not whole)
            current.append(piece)
    flush(keep_overlap=False)
    return [_make_chunk(doc, i, group) for i, group in enumerate(packed)]


def _make_chunk(doc: Document, ordinal: int, group: list[_Unit]) -> Chunk:
    first, last = group[0], group[-1]
    pages = [u.block.page for u in group if u.block.page is not None]
    page_start, page_end = (min(pages), max(pages)) if pages else (None, None)
    text = group[0].text.strip()
    for prev, unit in itertools.pairwise(group):
        text += (" " if unit.block is prev.block else "\n") + unit.text.strip()
    return Chunk(
        chunk_id=f"{doc.doc_id}#{ordinal}",
        doc_id=doc.doc_id,
        ordinal=ordinal,
        text=text,
        section=list(first.block.section),
        page_start=page_start,
        page_end=page_end,
        char_start=first.start,
        char_end=last.end,
        kind=first.block.kind,
        label=citation_label(doc, first.block.section, page_start, page_end),
    )
