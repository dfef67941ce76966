"""The answer plan: from question and retrieved passages to the sentences that answer it, or a refusal.

1. `analyse` the question (kind, quantity, experiments, metadata field);
2. score whole, non-junk sentences of the passages: similarity, the question's distinguishing terms
   (corpus IDF) in the sentence, its passage and its document's title, the conditions the question
   states (139 fb⁻¹, 13 TeV) found again, the named experiment's own papers first ("according to the X
   paper": X's paper), captions and other processes or experiments than the asked ones last;
3. open with the best sentence that states a value of the asked kind, add at most two supporting
   sentences of the same document; a comparison answers each side; a logbook answer keeps its entry's
   following sentences; a metadata question is answered from the document record;
4. refuse when the corpus does not state what is asked: a name the corpus never mentions, no sentence
   with a value of the asked kind, or an opening sentence about another experiment, process or particle.

Every backend uses the plan: the extractive one prints its sentences, LLM backends get its refusal and
the expected kind of answer.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from heprag.app.answering.evidence import JUNK_TEXT, Candidate, candidates, display, whole_sentences
from heprag.app.answering.metadata import metadata_sentence
from heprag.app.answering.question import Question, analyse, experiments_in
from heprag.app.answering.values import states_value
from heprag.app.grounding import extract_numbers
from heprag.index.embedder import Embedder
from heprag.index.keyword import tokenize
from heprag.index.types import Document, Hit

PASSAGES = 8
MAX_SENTENCES = 3
SUPPORT_RATIO = 0.85  # a supporting sentence scores at least this share of the opening one
PROCESSES = frozenset({"muon", "photon", "tau", "bottom", "electron", "charm", "ww", "zz", "top"})
_BOSONS = [re.compile(r"\bW(?=\s+(?:boson|mass))"), re.compile(r"\bZ(?=\s+boson)")]
_YEAR = re.compile(r"\b(?:19[5-9]\d|20[0-4]\d)\b")
_BECAUSE = re.compile(
    r"\b(?:because|since|due to|so that|in order to|to avoid|to ensure|would|otherwise)\b", re.IGNORECASE
)
_CAPTION = re.compile(r"^\s*(?:fig(?:ure)?|table)\.?\s*\d+\s*[:.]", re.IGNORECASE)
_PROPER = re.compile(r"(?<![\w-])([A-Z][A-Za-z0-9_]*[A-Z0-9][A-Za-z0-9_*-]*|[A-Z][a-z]+[A-Z]\w*)(?![\w])")


def processes(text: str) -> set[str]:
    """Final states a text names (muon, bottom, photon…), PDF glyph runs like 'b ̄b' or 'τ+τ−' included."""
    plain = "".join(ch for ch in unicodedata.normalize("NFD", text) if unicodedata.category(ch) != "Mn")
    plain = re.sub(r"\b([bctμτ])\s*[+−-]?\s*\1[+−-]?(?![a-z])", r"\1\1", plain)
    return set(PROCESSES & set(tokenize(plain)))


@dataclass
class Corpus:
    """What the plan needs of the index: document records and corpus term statistics."""

    document: Callable[[str], Document | None]
    document_frequency: Callable[[str], int]
    chunks: int


@dataclass
class Plan:
    question: Question
    sentences: list[tuple[str, list[int]]] = field(default_factory=list)
    refusal: str | None = None


@dataclass
class Scored:
    candidate: Candidate
    score: float
    valued: bool

    @property
    def doc_id(self) -> str:
        return self.candidate.hit.chunk.doc_id


class Planner:
    """Builds `Plan`s; one per Library and index generation (it caches document records)."""

    def __init__(self, embedder: Embedder, corpus: Corpus) -> None:
        self.embedder = embedder
        self.corpus = corpus
        self._docs: dict[str, Document | None] = {}

    def doc(self, doc_id: str) -> Document | None:
        if doc_id not in self._docs:
            self._docs[doc_id] = self.corpus.document(doc_id)
        return self._docs[doc_id]

    def title_processes(self, doc_id: str) -> set[str]:
        doc = self.doc(doc_id)
        return processes(doc.title) if doc else set()

    def collaboration(self, doc_id: str) -> str | None:
        doc = self.doc(doc_id)
        return doc.collaboration if doc else None

    def weights(self, text: str) -> dict[str, float]:
        """IDF over the whole corpus of each question term; a term no passage has weighs most."""
        n = max(self.corpus.chunks, 1)
        df = self.corpus.document_frequency
        return {t: math.log((n + 1) / (df(t) + 0.5)) for t in set(tokenize(text))}

    def plan(self, text: str, hits: list[Hit]) -> Plan:
        q = analyse(text)
        if not hits:
            return Plan(q, refusal="no-hits")
        unknown = self.unknown_names(text)
        if unknown:
            return Plan(q, refusal=f"unknown-name:{','.join(unknown)}")
        if q.kind == "metadata":
            answered = self.metadata(q, hits)
            if answered is not None:
                return answered
        scored = self.score(q, hits)
        chosen = self.compose(q, scored)
        if not chosen:
            return Plan(q, refusal=f"no-{q.quantity or 'answer'}-stated")
        reason = self.unsupported(q, chosen[0])
        if reason:
            return Plan(q, refusal=reason)
        sentences = [(display(s.candidate.text), [s.candidate.n]) for s in chosen]
        return Plan(q, sentences=sentences)

    # -- refusal signals -----------------------------------------------------------------------
    def unknown_names(self, text: str) -> list[str]:
        """Proper names and acronyms of the question (KATRIN, SH0ES, NGC) that no passage contains."""
        names = [m.group(1) for m in _PROPER.finditer(text)] + experiments_in(text)
        out = []
        for name in dict.fromkeys(names):
            parts = re.split(r"[-/]", name)  # "HS06-per-core" is known words, not an unknown name
            tokens = [t for part in parts for t in tokenize(part) if not t.isdigit()]
            if tokens and all(self.corpus.document_frequency(t) == 0 for t in tokens):
                out.append(name)
        return out

    def unsupported(self, q: Question, first: Scored) -> str | None:
        """Why the opening sentence does not answer `q` (another experiment, process, particle), or None."""
        sentence = first.candidate.text
        subjects = [e for e in q.experiments if e != q.source_experiment]
        if subjects and not q.compares:
            named = experiments_in(sentence)
            own = self.collaboration(first.doc_id)
            if not set(subjects) & set(named) and own not in subjects:
                return f"other-experiment:{own or '?'}"
            if named and not set(subjects) & set(named) and own in subjects:
                return f"other-experiment:{','.join(named)}"
        asked = processes(q.text)
        stated = processes(sentence) or self.title_processes(first.doc_id)
        if asked and stated and not asked & stated:
            return f"other-process:{','.join(sorted(stated))}"
        for boson in _BOSONS:
            if boson.search(q.text) and not boson.search(sentence):
                return "other-particle"
        return None

    # -- scoring -------------------------------------------------------------------------------
    def title_match(self, weight: dict[str, float], total: float, doc_id: str) -> float:
        doc = self.doc(doc_id)
        if doc is None or not doc.title:
            return 0.0
        title = set(tokenize(doc.title))
        return sum(w for t, w in weight.items() if t in title) / total

    def score(self, q: Question, hits: list[Hit]) -> list[Scored]:
        found = candidates(hits, PASSAGES)
        if not found:
            return []
        qvec = self.embedder.embed_query(q.text)
        cosine = self.embedder.embed_documents([c.text for c in found]) @ qvec
        weight = self.weights(q.text)
        total = sum(weight.values()) or 1.0
        conditions = set(extract_numbers(q.text))
        asked = processes(q.text)
        subjects = [e for e in q.experiments if e != q.source_experiment]
        years = set(_YEAR.findall(q.text))
        titles: dict[str, float] = {}
        passages: dict[str, set[str]] = {}
        out = []
        for c, cos in zip(found, cosine, strict=True):
            chunk = c.hit.chunk
            terms = set(tokenize(c.text))
            if chunk.chunk_id not in passages:
                passages[chunk.chunk_id] = set(tokenize(chunk.text)) | set(extract_numbers(chunk.text))
            context = passages[chunk.chunk_id]
            if chunk.doc_id not in titles:
                titles[chunk.doc_id] = self.title_match(weight, total, chunk.doc_id)
            coverage = sum(w for t, w in weight.items() if t in terms) / total
            in_context = sum(w for t, w in weight.items() if t in context) / total
            score = 0.45 * float(cos) + 0.35 * coverage + 0.2 * in_context + 0.1 * titles[chunk.doc_id]
            if conditions:
                stated = set(extract_numbers(c.text))
                score += 0.05 * len(conditions & stated) + 0.02 * len(conditions & context)
            if chunk.kind == "caption" or _CAPTION.match(c.text):
                score -= 0.1
            own = self.collaboration(chunk.doc_id)
            if q.source_experiment:
                score += 0.1 if own == q.source_experiment else -0.1
            elif subjects and not q.compares:
                score += 0.08 if own in subjects else -0.08
                score -= 0.08 * len([e for e in experiments_in(c.text) if e not in subjects and e != own])
            stated_processes = processes(c.text)
            if asked and stated_processes and not asked & stated_processes:
                score -= 0.12
            about = self.title_processes(chunk.doc_id)
            if asked and about and not asked & about:
                score -= 0.12  # a paper about another decay
            if q.wants_expected and re.search(r"\bexpected\b", c.text, re.IGNORECASE):
                score += 0.03
            stated_years = set(_YEAR.findall(c.text))
            if years and stated_years and not years & stated_years:
                score -= 0.08  # "the 2012 excess" is not the one of the 2011 data
            if q.why and _BECAUSE.search(c.text):
                score += 0.05
            valued = states_value(c.text, q.quantity) if q.kind in ("value", "comparison") else True
            out.append(Scored(c, score / (1 + 0.03 * (c.n - 1)), valued))
        return sorted(out, key=lambda s: -s.score)

    def compose(self, q: Question, scored: list[Scored]) -> list[Scored]:
        """The opening sentence (stating the asked value) and at most two supporting ones."""
        if q.compares:
            return self.compare(q, scored)
        first = next((s for s in scored if s.valued), None)
        if first is None:
            return []
        asked = processes(q.text)
        if first.candidate.hit.chunk.kind == "logbook":
            return [first, *self.entry_continuation(first)]
        out = [first]
        for s in scored:
            if len(out) >= MAX_SENTENCES or s.score < SUPPORT_RATIO * first.score:
                break
            clash = asked and processes(s.candidate.text) and not asked & processes(s.candidate.text)
            if s is not first and s.doc_id == first.doc_id and s.valued and not clash:
                out.append(s)
        return out

    @staticmethod
    def entry_continuation(first: Scored) -> list[Scored]:
        """The sentences after `first` in its logbook entry (an entry is read as a whole, short lines too)."""
        c = first.candidate
        following = whole_sentences(c.hit.chunk.text)
        if c.text not in following:
            return []
        at = following.index(c.text)
        wanted = [t for t in following[at + 1 : at + MAX_SENTENCES] if len(t.split()) >= 2]
        kept = [t for t in wanted if not JUNK_TEXT.search(t)]
        return [Scored(Candidate(t, c.n, c.hit), first.score, True) for t in kept]

    def compare(self, q: Question, scored: list[Scored]) -> list[Scored]:
        """Each side of a comparison, cited: a sentence naming both, else the best one for each."""
        sides = [e for e in q.experiments if e != q.source_experiment] or q.experiments
        valued = [s for s in scored if s.valued] or scored
        if not valued:
            return []
        both = [s for s in valued[:6] if len(set(experiments_in(s.candidate.text)) & set(sides)) >= 2]
        if both or len(sides) < 2:
            return [(both or valued)[0]]

        def on_side(s: Scored, side: str) -> bool:
            return side in experiments_in(s.candidate.text) or self.collaboration(s.doc_id) == side

        out = [valued[0]]
        for side in sides:
            if any(on_side(s, side) for s in out):
                continue
            match = next((s for s in valued if on_side(s, side)), None)
            if match is not None and match.score >= 0.7 * valued[0].score:
                out.append(match)
        return out[:MAX_SENTENCES]

    # -- metadata ------------------------------------------------------------------------------
    def metadata(self, q: Question, hits: list[Hit]) -> Plan | None:
        """A metadata question answered from the record of the best-matching retrieved document."""
        for n, hit in enumerate(hits[:3], start=1):
            doc = self.doc(hit.chunk.doc_id)
            sentence = metadata_sentence(q, doc) if doc else None
            if sentence:
                return Plan(q, sentences=[(sentence, [n])])
        return None
