"""Bibliographies of LaTeX papers: `.bib` entries and bibitems (thebibliography, `.bbl`) as References."""

from __future__ import annotations

import re

from heprag.index.types import Reference
from heprag.ingest.sources.latex_text import group as _group
from heprag.ingest.sources.latex_text import latex_to_text
from heprag.ingest.sources.latex_text import squash as _squash

ARXIV_ID = r"\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?[_/]\d{7}"
ARXIV_NAME = re.compile(rf"^(?:arXiv[_:-]?)?(?P<id>(?:{ARXIV_ID})(?:v\d+)?)$", re.I)
ARXIV_IN_TEXT = re.compile(r"(?:arXiv:\s*|eprint\s*=?\s*)(\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?/\d{7})", re.I)
DOI_IN_TEXT = re.compile(r"\b(10\.\d{4,9}/[^\s,;{}\\]+[^\s,;{}.\\])")
OPT = r"\s*(?:\[[^\]]*\])?\s*"
BIB_FIELD = re.compile(  # name = {value with up to 3 brace levels} | "quoted {value}" | bare
    r'([A-Za-z][\w-]*)\s*=\s*(?:\{((?:[^{}]|\{(?:[^{}]|\{[^{}]*\})*\})*)\}|"((?:[^"{}]|\{[^{}]*\})*)"|([^,}\s]*))'
)


def parse_bib(text: str, wanted: set[str] | None = None) -> dict[str, Reference]:
    """Entries of a `.bib` file (only the keys in `wanted`, when given) as References."""
    entries: dict[str, Reference] = {}
    for match in re.finditer(r"@(\w+)\s*\{\s*([^,\s{}]+)\s*,", text):
        key, kind = match.group(2), match.group(1).lower()
        if kind in ("comment", "string", "preamble") or (wanted is not None and key not in wanted):
            continue
        body = _group(text, match.start() + match.group(0).index("{"))[0]
        fields = {
            m.group(1).lower(): _squash(m.group(2) or m.group(3) or m.group(4) or "")
            for m in BIB_FIELD.finditer(body)
        }
        authors = [a for a in fields.get("author", "").split(" and ") if a.strip() not in ("", "others")]
        etal = " et al." if len(authors) > 3 or " others" in fields.get("author", "") else ""
        venue = " ".join(fields.get(f, "") for f in ("journal", "booktitle", "volume", "pages")).strip()
        parts = [
            ", ".join(authors[:3]) + etal,
            fields.get("title"),
            venue or fields.get("howpublished"),
            fields.get("year"),
        ]
        ref_text = _squash(latex_to_text(", ".join(p for p in parts if p)))
        ref_text = ", ".join(p for p in (ref_text, "" if venue else fields.get("url", "")) if p) or key
        eprint = fields.get("eprint", "")
        arxiv = eprint if ARXIV_NAME.match(eprint) else _find(ARXIV_IN_TEXT, " ".join(fields.values()))
        entries[key] = Reference(key=key, text=ref_text, arxiv_id=arxiv, doi=fields.get("doi") or None)
    return entries


def parse_bibitems(text: str) -> dict[str, Reference]:
    """`\\bibitem[label]{key} text` entries (a thebibliography environment or a bibtex `.bbl` file)."""
    entries: dict[str, Reference] = {}
    items = list(re.finditer(rf"\\bibitem{OPT}\{{([^{{}}]*)\}}", text))
    for i, item in enumerate(items):
        raw = text[item.end() : items[i + 1].start() if i + 1 < len(items) else None]
        raw = re.split(r"\\end\s*\{thebibliography\}", raw)[0]
        ref_text = _squash(latex_to_text(re.sub(r"\\url\s*\{([^{}]*)\}", r"\1", raw)))
        key = item.group(1).strip()
        arxiv, doi = _find(ARXIV_IN_TEXT, raw), _find(DOI_IN_TEXT, raw)
        entries[key] = Reference(key=key, text=ref_text or key, arxiv_id=arxiv, doi=doi)
    return entries


def _find(pattern: re.Pattern[str], text: str) -> str | None:
    return match.group(1) if (match := pattern.search(text)) else None
