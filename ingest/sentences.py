"""A sentence splitter for scientific prose: no break after 'Fig.', 'Ref.', 'et al.', 'e.g.' or in 1.5."""

from __future__ import annotations

import re

ABBREVIATIONS = [
    "fig",
    "figs",
    "ref",
    "refs",
    "eq",
    "eqs",
    "sec",
    "secs",
    "tab",
    "tabs",
    "e.g",
    "i.e",
    "et",
    "al",
    "vs",
    "cf",
    "approx",
    "resp",
    "no",
    "nos",
    "vol",
    "ch",
    "app",
    "phys",
    "rev",
    "lett",
    "nucl",
    "instrum",
    "meth",
    "eur",
    "j",
    "jhep",
    "b",
    "c",
    "d",
    "dr",
    "prof",
    "st",
]
_ABBREV = re.compile(
    r"(?:\b(?:" + "|".join(re.escape(a) for a in ABBREVIATIONS) + r")\.|\b[A-Z]\.)$", re.IGNORECASE
)
_BOUNDARY = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9\u0370-\u03ff√])|\s*\n\s*")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Character spans (start, end) of the sentences of `text`, covering all non-space text."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        candidate = text[start : match.start()].rstrip()
        if "\n" not in match.group() and (_ABBREV.search(candidate) or len(candidate) < 3):
            continue
        spans.append((start, match.start()))
        start = match.end()
    if text[start:].strip():
        spans.append((start, len(text.rstrip())))
    return [(s, e) for s, e in spans if text[s:e].strip()]


def sentences(text: str) -> list[str]:
    return [text[s:e].strip() for s, e in split_sentences(text)]
