"""BibTeX for an indexed `Document`: INSPIRE's texkey when enrichment found one, else a visibly local key.

A generated key must not pass for an INSPIRE texkey (`CMS:2013bpc` looks like one and would silently
mismatch the real record in a user's bibliography), so it is prefixed `heprag:` — `heprag:ATLAS.2020.fzp`.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

from heprag.index.types import Document

_ARXIV_ID = re.compile(r"^arXiv:(?P<id>(\d{4}\.\d{4,5}|[a-z\-]+(\.[A-Z]{2})?/\d{7}))(v\d+)?$", re.I)
_SPECIAL = re.compile(r"(?<!\\)([&%#_])")


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _escape(value: str) -> str:
    """Escape BibTeX specials; unbalanced braces (which would break the entry) are dropped."""
    value = " ".join(value.split())
    depth = 0
    for ch in value:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            break
    if depth != 0:
        value = value.replace("{", "").replace("}", "")
    return _SPECIAL.sub(r"\\\1", value)


def arxiv_eprint(doc: Document) -> str | None:
    """The arXiv identifier without version ('2007.07830'), when the document is an arXiv paper."""
    match = _ARXIV_ID.match(doc.doc_id)
    if match:
        return match.group("id")
    eprint = doc.extra.get("arxiv_id") or doc.extra.get("eprint")
    return str(eprint).split("v")[0] if eprint else None


LOCAL_PREFIX = "heprag:"


def is_inspire_texkey(key: str) -> bool:
    """A key INSPIRE gave (not one heprag generated)."""
    return not key.startswith(LOCAL_PREFIX)


def texkey(doc: Document) -> str:
    """INSPIRE texkey from `doc.extra['texkey']`, else `heprag:<Collaboration|Surname>.<year>.<3 letters>`."""
    given = doc.extra.get("texkey")
    if isinstance(given, str) and given.strip():
        return given.strip()
    if doc.collaboration:
        base = doc.collaboration
    elif doc.authors:
        name = doc.authors[0]
        base = name.split(",")[0] if "," in name else name.split()[-1]
    else:
        base = "heprag"
    base = re.sub(r"[^A-Za-z0-9\-]", "", _ascii(base)) or "heprag"
    digest = hashlib.sha1(doc.doc_id.encode()).digest()
    suffix = "".join(chr(ord("a") + b % 26) for b in digest[:3])
    return f"{LOCAL_PREFIX}{base}.{doc.year or 'nd'}.{suffix}"


def bibtex(doc: Document) -> str:
    """An `@article` (papers) or `@misc` (logbooks, notes) entry for the document."""
    fields: list[tuple[str, str]] = []
    if doc.authors:
        fields.append(("author", " and ".join(_escape(a) for a in doc.authors)))
    elif doc.collaboration:
        fields.append(("author", f"{{{_escape(doc.collaboration)} Collaboration}}"))
    if doc.collaboration:
        fields.append(("collaboration", _escape(doc.collaboration)))
    fields.append(("title", f"{{{_escape(doc.title or doc.doc_id)}}}"))
    for key in ("journal", "volume", "pages"):
        if doc.extra.get(key):
            fields.append((key, _escape(str(doc.extra[key]))))
    if doc.year:
        fields.append(("year", str(doc.year)))
    eprint = arxiv_eprint(doc)
    if eprint:
        fields += [("eprint", eprint), ("archivePrefix", "arXiv")]
        if doc.categories:
            fields.append(("primaryClass", doc.categories[0]))
    doi = doc.extra.get("doi") or _doi_from_link(doc.links.get("doi", ""))
    if doi:
        fields.append(("doi", str(doi)))
    url = doc.links.get("abs") or doc.links.get("inspire") or doc.links.get("url")
    if url:
        fields.append(("url", url))
    kind = "article" if doc.source_type == "paper" else "misc"
    body = ",\n".join(f"    {name} = {_braced(value)}" for name, value in fields)
    return f"@{kind}{{{texkey(doc)},\n{body}\n}}\n"


def _braced(value: str) -> str:
    return value if value.isdigit() else f"{{{value}}}"


def _doi_from_link(link: str) -> str | None:
    match = re.search(r"(10\.\d{4,9}/\S+)", link)
    return match.group(1) if match else None
