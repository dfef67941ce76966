"""A glossary mined from the indexed text: acronyms with their long forms and "X, defined as Y" sentences.

Acronyms follow Schwartz & Hearst (2003): for "Large Hadron Collider (LHC)" the long form is the shortest
run of preceding words whose characters contain the acronym's letters in order, the first one starting a
word. Every entry keeps the passage it came from, so the glossary is cited like an answer.

Shared by the chat (glossary tab, terms of an answer, follow-ups) and the newcomer answers, which add the
passages defining the jargon of the retrieved ones (`defining_chunks`).

Only readable entries are kept (`readable_term`, `readable_long_form`, `readable_definition`): a term is a
noun phrase of words (a trailing symbol such as "μ" allowed), a definition a clause of words. PDF math and
table debris ("GeV — (GeV) FWHM/2.35", "other nine categories — follows: …", "pV T > 150 GeV") and
acknowledgement lists ("MECTS — MNiSW, Poland; …") are dropped; an appositive definition stops where its
sentence goes on ("X, defined as Y, is μ = 1.2" → Y), and the papers' reference brackets are removed.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from heprag.index.store import CorpusIndex
from heprag.index.types import Chunk, Hit
from heprag.ingest.sentences import sentences

_ACRONYM = re.compile(r"\(\s*([A-Za-z][A-Za-z0-9\-]{0,9}[A-Za-z0-9]|[A-Z])\s*\)")
_DEFINED = re.compile(
    r"(?:^|\b[Tt]he\s+)(?P<term>[^,;:()]{3,60}?)\s*,?\s+(?:is\s+|are\s+)?defined\s+as\s+(?P<def>[^;]{8,240})"
)
_HYPHEN_BREAK = re.compile(r"(\w)- ([a-z])")
_STOP_TERMS = {"it", "this", "which", "that", "these", "they", "and", "the"}
# A word that may be an acronym: two or more capitals ("VBF", "LAr", "PDFs"), a letter first.
_ACRONYM_WORD = re.compile(r"(?<![\w\-])([A-Za-z][A-Za-z0-9]*[A-Z][A-Za-z0-9]*)(?![\w\-])")
# Words that show a matched "term" is a clause, not a noun phrase ("analysis focuses on a high-pT region").
_NOT_A_TERM = frozenset(
    {"for", "in", "on", "at", "with", "by", "as", "to", "from", "into", "over", "under", "after", "before",
     "when", "if", "where", "while", "then", "is", "are", "was", "were", "be", "been", "has", "have", "had",
     "can", "will", "may", "also", "which", "that", "this", "these", "those", "it", "they", "follows",
     "using", "used", "comprises", "consists", "contains", "includes", "focuses", "gives", "uses"}
)  # fmt: skip
_PLAIN_WORD = re.compile(
    r"[A-Za-z][a-z]+(?:-[A-Za-z0-9]+)*|[a-z]+-[A-Za-z0-9-]+|[A-Z][A-Za-z0-9]{1,9}s?|p[T]"
)
_SYMBOL = re.compile(r"[^\W\d_][\w]{0,2}")  # a trailing symbol of a term: "μ", "q", "A", "θ1"
_MATH = re.compile(r"[<>=±∓√∑∏∫^_|�⃗]|\bmiss\b|miss\s[A-Z]\b|\b\w/\w")
_LETTER_WORDS = frozenset({"a", "Z", "W", "H"})
_LONG_FORM = re.compile(r"[A-Za-z][A-Za-z'’]*(?:[\s-][A-Za-z][A-Za-z'’]*)*")
_REFS = re.compile(r"\s*\[\d+(?:\s*[,–-]\s*\d+)*\]")
_GOES_ON = re.compile(r",\s+(?:and\s+)?(?:is|are|was|were|has|have|had|can|will|may|which|where|while)\b")
GLOSSARY = "glossary"  # the `Hit.retrievers` mark of a passage added for its definitions
CORPUS_LOOKUPS = 12  # keyword searches per question for acronyms the retrieved papers never define


@dataclass
class GlossaryEntry:
    """A term, what it means, and where the corpus says so."""

    term: str
    definition: str
    chunk_id: str
    doc_id: str
    label: str
    page: int | None
    quote: str
    kind: str = "acronym"  # or "definition"
    occurrences: int = 1

    def matches(self, query: str) -> bool:
        q = query.lower().strip()
        return not q or q in self.term.lower() or q in self.definition.lower()


def _clean(text: str) -> str:
    return _HYPHEN_BREAK.sub(r"\1\2", " ".join(text.split()))


def long_form(short: str, before: str) -> str | None:
    """The Schwartz-Hearst long form of `short` at the end of `before`, or None when there is none."""
    letters = [c.lower() for c in short if c.isalnum()]
    if len(letters) < 2 or not short[0].isalpha() or sum(c.isupper() for c in short) < 2:
        return None
    words = before.split()[-min(len(letters) + 5, 2 * len(letters)) :]
    candidate = " ".join(words)
    s, i = len(letters) - 1, len(candidate) - 1
    while s >= 0:
        c = letters[s]
        while i >= 0 and (candidate[i].lower() != c or (s == 0 and i > 0 and candidate[i - 1].isalnum())):
            i -= 1
        if i < 0:
            return None
        i -= 1
        s -= 1
    result = candidate[candidate.rfind(" ", 0, i + 1) + 1 :].strip(" ,;:-")
    if len(result) <= len(short) or (" " not in result and "-" not in result):
        return None
    if any(len(w) > 1 and w.isupper() and w in short for w in result.split()):
        return None  # "signal events expected in the SM (SSM)": a subscript, not an acronym
    return result


def readable_term(term: str) -> str | None:
    """`term` as a noun phrase of words (one trailing symbol allowed), or None when it is not one."""
    term = re.sub(r"^(?:[Tt]he|[Aa]n?)\s+", "", " ".join(term.split()))
    term = re.sub(r"\s+(?:is|are)(?:\s+then)?$", "", term)  # "The total uncertainty is then defined as"
    words = term.split()
    if not 1 <= len(words) <= 7 or _MATH.search(term) or "[" in term:
        return None
    plain, last = words, words[-1]
    if len(words) >= 3 and not _PLAIN_WORD.fullmatch(last) and _SYMBOL.fullmatch(last):
        plain = words[:-1]  # "signal strength μ", "test statistic q"
    if any(w.lower() in _NOT_A_TERM for w in words) or words[0].lower() in _STOP_TERMS:
        return None
    if not all(_PLAIN_WORD.fullmatch(w) or w.lower() in {"of", "and", "the", "a"} for w in plain):
        return None
    return term if any(len(w) >= 3 and w.islower() for w in plain) else None


def readable_long_form(short: str, expansion: str) -> bool:
    """An acronym's long form is words only ('vector-boson fusion'), not table or list debris."""
    words = expansion.split()
    return (
        _LONG_FORM.fullmatch(expansion) is not None
        and words[0].lower() != short.lower()
        and sum(len(w) >= 3 for w in words) >= 1
    )


def readable_definition(term: str, definition: str) -> str | None:
    """The defining clause cut where its sentence goes on, without reference brackets; None for debris."""
    text = _REFS.sub("", definition)
    goes_on = _GOES_ON.search(text)
    if goes_on:
        text = text[: goes_on.start()]
    text = re.sub(r",\s*respectively$", "", text.strip().rstrip(".,;: "))
    parts = text.rsplit(",", 1)  # a trailing symbolic restatement: "…divided by its uncertainty, d0/σd0"
    if len(parts) == 2 and not re.search(r"[a-z]{3,}", parts[1]):
        text = parts[0].rstrip()
    words = text.split()
    wordy = [w for w in words if re.fullmatch(r"[(]?(?:[A-Za-z][A-Za-z'’-]+|a)[),]?", w)]
    # lone letters other than "a" and boson names ("the leading Z") are math: "high-pV T", "category j"
    letters = [w for w in words if re.fullmatch(r"[^\W\d_][,.]?", w) and w.rstrip(",.") not in _LETTER_WORDS]
    if (
        len(words) < 3
        or len(letters) >= 2
        or _MATH.search(text)
        or not re.match(r"[a-z]", text)
        or text.lower().startswith(("follows", "as follows", term.lower()))
        or len(wordy) < 0.75 * len(words)
        or text.count("(") != text.count(")")
    ):
        return None
    return text


def entries_from_chunk(chunk: Chunk) -> list[GlossaryEntry]:
    """Acronyms and definitions stated in one passage, readable ones only."""
    out: list[GlossaryEntry] = []
    for sentence in sentences(_clean(chunk.text)):
        for match in _ACRONYM.finditer(sentence):
            short = match.group(1)
            expansion = long_form(short, sentence[: match.start()])
            if expansion and readable_long_form(short, expansion):
                out.append(_entry(short, expansion, chunk, sentence, "acronym"))
        for match in _DEFINED.finditer(sentence):
            term = readable_term(match.group("term"))
            if term is None or term.lower() in _STOP_TERMS:
                continue
            definition = readable_definition(term, match.group("def"))
            if definition is not None:
                out.append(_entry(term, definition, chunk, sentence, "definition"))
    return out


def _entry(term: str, definition: str, chunk: Chunk, sentence: str, kind: str) -> GlossaryEntry:
    return GlossaryEntry(
        term=term,
        definition=definition,
        chunk_id=chunk.chunk_id,
        doc_id=chunk.doc_id,
        label=chunk.label,
        page=chunk.page_start,
        quote=sentence,
        kind=kind,
    )


def build_glossary(chunks: Iterable[Chunk]) -> list[GlossaryEntry]:
    """One entry per term (case-sensitive acronyms): the most frequent long form, cited at first use."""
    by_term: dict[str, list[GlossaryEntry]] = {}
    for chunk in chunks:
        for entry in entries_from_chunk(chunk):
            key = entry.term if entry.kind == "acronym" else entry.term.lower()
            by_term.setdefault(key, []).append(entry)
    glossary: list[GlossaryEntry] = []
    for found in by_term.values():
        common = Counter(e.definition.lower() for e in found).most_common(1)[0][0]
        first = next(e for e in found if e.definition.lower() == common)
        first.occurrences = len(found)
        glossary.append(first)
    return sorted(glossary, key=lambda e: e.term.lower())


def search_glossary(glossary: list[GlossaryEntry], query: str) -> list[GlossaryEntry]:
    """Entries whose term or definition contains `query` (case-insensitive); exact term matches first."""
    q = query.lower().strip()
    found = [e for e in glossary if e.matches(q)]
    return sorted(
        found, key=lambda e: (e.term.lower() != q, not e.term.lower().startswith(q), e.term.lower())
    )


def terms_in(text: str, glossary: list[GlossaryEntry]) -> list[GlossaryEntry]:
    """Entries used in `text`: an acronym (whole word, case-sensitive) or its long form, or a defined term."""
    lowered = text.lower()
    out = []
    for entry in glossary:
        if entry.kind == "acronym":
            found = _has_word(entry.term, text) or _has_word(entry.definition.lower(), lowered)
        else:
            found = _has_word(entry.term.lower(), lowered)
        if found:
            out.append(entry)
    return out


def _has_word(needle: str, haystack: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", haystack) is not None


def mentions(entry: GlossaryEntry, text: str) -> bool:
    """`text` uses the term itself: an acronym as a whole word (case-sensitive, plural allowed), or a
    defined term (case-insensitive). A long form alone does not count: it needs no explanation."""
    if entry.kind == "acronym":
        return re.search(rf"(?<!\w){re.escape(entry.term)}s?(?!\w)", text) is not None
    return _has_word(entry.term.lower(), text.lower())


def expands(entry: GlossaryEntry, text: str) -> bool:
    """`text` already says what the term means (its long form or its definition)."""
    return _has_word(entry.definition.lower(), _clean(text).lower())


def acronym_words(text: str) -> list[str]:
    """Words of `text` that look like acronyms (two capitals or more; not GeV, TeV), in order of first use."""
    words = dict.fromkeys(m.group(1) for m in _ACRONYM_WORD.finditer(text))
    return [w for w in words if len(w) <= 10 and sum(c.isupper() for c in w) >= 2 and not w.endswith("eV")]


def _corpus_definition(term: str, index: CorpusIndex) -> GlossaryEntry | None:
    """Where the corpus defines the acronym `term`: the passages that use it most, read in turn."""
    ids, _ = index.keywords.search(term, 20)
    chunks = index.meta.chunks_by_ids(int(i) for i in ids)
    for i in ids:
        chunk = chunks.get(int(i))
        found = [e for e in entries_from_chunk(chunk) if e.term == term] if chunk else []
        if found:
            return found[0]
    return None


def defining_chunks(hits: list[Hit], index: CorpusIndex, limit: int = 6) -> list[Chunk]:
    """Passages outside `hits` that define the jargon `hits` use without defining it, first-used first.

    A paper's own definition comes first (papers define their acronyms at first use, and the same letters
    can mean different things in two papers); an acronym its paper never defines is looked up in the
    rest of the corpus by keyword.
    """
    have = {h.chunk.chunk_id for h in hits}
    defined = {e.term for h in hits for e in entries_from_chunk(h.chunk)}
    papers: dict[str, list[GlossaryEntry]] = {}
    wanted: dict[str, GlossaryEntry] = {}
    tried: set[str] = set()
    for hit in hits:
        doc_id = hit.chunk.doc_id
        if doc_id not in papers:
            papers[doc_id] = build_glossary(index.meta.chunks_of(doc_id))
        own = {e.term: e for e in papers[doc_id]}
        for entry in papers[doc_id]:
            if entry.term not in defined and entry.term not in wanted and mentions(entry, hit.chunk.text):
                wanted[entry.term] = entry
        for word in acronym_words(hit.chunk.text):
            if len(tried) >= CORPUS_LOOKUPS or word in defined | wanted.keys() | own.keys() | tried:
                continue
            tried.add(word)
            found = _corpus_definition(word, index)
            if found is not None:
                wanted[word] = found
    out: dict[str, Chunk] = {}
    for entry in wanted.values():
        if entry.chunk_id not in have and entry.chunk_id not in out and len(out) < limit:
            row = index.meta.chunk_by_chunk_id(entry.chunk_id)
            if row is not None:
                out[entry.chunk_id] = row[1]
    return list(out.values())


def with_definitions(hits: list[Hit], index: CorpusIndex, limit: int = 6) -> list[Hit]:
    """`hits` followed by the `defining_chunks` as hits marked `retrievers=["glossary"]` (score 0)."""
    extra = defining_chunks(hits, index, limit)
    n = len(hits)
    return hits + [Hit(chunk=c, score=0.0, rank=n + i, retrievers=[GLOSSARY]) for i, c in enumerate(extra, 1)]
