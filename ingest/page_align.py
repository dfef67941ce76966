"""Page anchors for text that has none: each LaTeX block gets the page of the PDF where its words are.

Cheap and good enough for citations: every block votes with its 4-word shingles for the PDF pages that
hold them; the page with most votes wins, and a block without a vote (a formula, a table) takes the
page of the block before it. Cost is linear in the words of both texts.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

from heprag.index.types import Block, Document

SHINGLE = 4
WORD = re.compile(r"[a-z0-9]+")


def _words(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", text.casefold())
    return WORD.findall("".join(ch for ch in folded if not unicodedata.combining(ch)))


def _shingles(text: str) -> set[int]:
    words = _words(text)
    return {hash(tuple(words[i : i + SHINGLE])) for i in range(max(len(words) - SHINGLE + 1, 0))}


def align_pages(blocks: list[Block], pdf: Document) -> tuple[list[Block], float]:
    """`blocks` with pages taken from `pdf`, and the share of blocks matched by their own words."""
    where: dict[int, set[int]] = {}
    for block in pdf.blocks:
        if block.page is not None:
            for shingle in _shingles(block.text):
                where.setdefault(shingle, set()).add(block.page)
    pages: list[int | None] = []
    matched = 0
    for block in blocks:
        votes = Counter(page for s in _shingles(block.text) for page in where.get(s, ()))
        if votes:
            matched += 1
            current = next((p for p in reversed(pages) if p is not None), 0)
            best = max(votes.values())
            # ties go to the first page at or after the current one (text runs forward)
            tied = sorted(p for p, n in votes.items() if n == best)
            pages.append(next((p for p in tied if p >= current), tied[0]))
        else:
            pages.append(next((p for p in reversed(pages) if p is not None), None))
    first = next((p for p in pages if p is not None), None)
    aligned = [
        b.model_copy(update={"page": p if p is not None else first})
        for b, p in zip(blocks, pages, strict=True)
    ]
    return aligned, matched / len(blocks) if blocks else 0.0
