"""What a paper is about and what it found: on-topic documents and their headline results.

*On topic.* A paper says what it is in its title and its abstract's first sentence. A selected document
is on topic when those name the topic's distinguishing terms: each topic term is weighted by how few of
the selected documents name it (a term every document names, like "Higgs boson" in a Higgs corpus, weighs
almost nothing), and the document must cover `ON_TOPIC` of the weight. HEP notations are folded first, so
"b quarks", "bottom quarks", "H → b̄b" and "bb" are one term, as are "dimuon", "μμ" and "two muons". A
search for H→μμ that mentions H→bb in passing is therefore not on the topic "Higgs boson decays to b
quarks"; only on-topic documents enter the synthesis and the key-numbers table.

*Headline results.* The sentences of a paper's abstract and conclusion that state a result with numbers
(significance, signal strength, cross section, limit, mass), those naming the topic first. The headline
of a paper is one sentence composed from the labelled values of those sentences ("ATLAS (1808.08238v2):
observed significance 5.4σ (5.5σ expected); signal strength μ = 1.01 ± 0.20"), citing them; the numbers are
copied from the passages and checked against them like every other sentence of the report.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from heprag.app.summaries import key_numbers
from heprag.app.summaries.model import SelectedDocument
from heprag.index.segmented import SegmentedStore
from heprag.index.types import Chunk, Document
from heprag.ingest.sentences import sentences

ON_TOPIC = 0.6  # share of the topic's term weight a document's title + first abstract sentence must name
_FOLD = [  # the same physics written differently → one token
    (r"\bb[\s-]*quarks?\b|\bbottom[\s-]+quarks?\b|\bbottom[\s-]+quark[\s-]+antiquark\b|\bb\s?\u0304?\s?b\b"
     r"|\bbb̄|\bb̄b|\bhbb\b", " bquark "),
    (r"\btop[\s-]+quarks?(?:[\s-]+antiquark)?(?:[\s-]+pairs?)?|\bt\s?\u0304?\s?t\s?h\b|\btth\b", " tth "),
    (r"\bdi-?muons?\b|μ\s*\+?\s*μ\s*-?|\bmu\s?mu\b|\btwo muons\b|\bmuon pairs?\b", " dimuon "),
    (r"\bdi-?photons?\b|γ\s*γ|\btwo photons\b|\bphoton pairs?\b", " diphoton "),
    (r"\bτ\s*\+?\s*τ|\bdi-?taus?\b|\btau[\s-]+(?:lepton[\s-]+)?pairs?\b|\btwo tau leptons\b", " ditau "),
    (r"\bfour[\s-]+leptons?\b|\b4\s?l\b|\bzz\s?\*?\s?→\s?4\s?l\b", " fourlepton "),
    (r"\bvector[\s-]+bosons?\b|\bv\s?h\b|\bw\s?h\b|\bz\s?h\b", " vh "),
    (r"\bvector[\s-]+boson[\s-]+fusion\b|\bvbf\b", " vbf "),
]  # fmt: skip
_STOP = frozenset(
    {"the", "a", "an", "of", "to", "in", "on", "for", "and", "or", "with", "from", "by", "at", "as", "is",
     "are", "was", "were", "be", "this", "that", "these", "its", "their", "into", "using", "use", "study",
     "studies", "search", "searches", "measurement", "measurements", "observation", "evidence", "result",
     "results", "data", "paper", "report", "decay", "decays", "production", "produced", "via", "lhc",
     "tev", "gev", "mev", "kev", "fb", "pb", "fb-1", "pb-1"}
)  # fmt: skip
_RESULT = ("significance", "signal strength", "cross section", "upper limit", "mass", "branching", "coupling")
_CONCLUSION = re.compile(
    r"^(?:[\dIVX]+\.?\s+)?(?:conclusions?|summary|summary and conclusions?|discussion)\b", re.I
)


def fold(text: str) -> str:
    """Lower-cased text with HEP notations folded into one token each ('H → b̄b' → ' bquark ')."""
    text = " ".join(text.lower().split())
    for pattern, token in _FOLD:
        text = re.sub(pattern, token, text)
    return text


def terms(text: str) -> list[str]:
    """Content terms of `text`: folded, stop words out, plural 's' dropped."""
    words = re.findall(r"[a-z][a-z0-9]+", fold(text))
    return list(
        dict.fromkeys(w[:-1] if len(w) > 4 and w.endswith("s") else w for w in words if w not in _STOP)
    )


def headline_chunks(meta: SegmentedStore, doc: Document) -> list[Chunk]:
    """The abstract (the leading chunks before the first numbered section) and the conclusion chunks."""
    chunks = meta.chunks_of(doc.doc_id)
    head: list[Chunk] = []
    for chunk in chunks[:4]:
        section = chunk.section[0].lower() if chunk.section else ""
        if (section and not section.startswith("abstract")) or chunk.page_start != chunks[0].page_start:
            break  # the first section, or an unnamed introduction on a later page
        head.append(chunk)
    tail = [c for c in chunks if c.section and _CONCLUSION.match(c.section[0])]
    return head + [c for c in tail if c not in head]


def first_sentence(chunks: list[Chunk]) -> str:
    found = sentences(" ".join(chunks[0].text.split())) if chunks else []
    return found[0] if found else ""


def topic_weights(topic: str, about: dict[str, str]) -> dict[str, float]:
    """Topic term → weight: high for terms few of the documents' `about` texts name (idf-like)."""
    have = [set(terms(text)) for text in about.values()]
    n = len(have)
    return {t: math.log((n + 1) / (sum(t in h for h in have) + 0.5)) for t in terms(topic)}


def mark_on_topic(
    weights: dict[str, float],
    selection: list[SelectedDocument],
    about: dict[str, str],
    listed: set[str] | None = None,
) -> None:
    """Set `on_topic` (and say why in `reason`) for each selected document; `about[doc_id]` is the text
    that says what the document is (title + first abstract sentence). A --papers document is on topic."""
    total = sum(weights.values())
    for selected in selection:
        named = set(terms(about.get(selected.doc.doc_id, selected.doc.title)))
        share = sum(w for t, w in weights.items() if t in named) / total if total > 0 else 1.0
        selected.on_topic = share >= ON_TOPIC or selected.doc.doc_id in (listed or set())
        verdict = "on topic" if selected.on_topic else "related (not in the synthesis)"
        selected.reason = f"{selected.reason}; {verdict}: title/abstract name {share:.0%} of the topic"
    if selection and not any(s.on_topic for s in selection):  # a topic no title states: keep the best
        best = max(selection, key=lambda s: s.relevance)
        best.on_topic = True


@dataclass
class Headline:
    """One result sentence of an abstract or conclusion, with its labelled values and where it is."""

    text: str
    chunk_id: str
    values: list[tuple[str, str]]  # (quantity, value) as key_numbers labels them
    topical: float  # weight of the topic terms the sentence names
    order: int


def headline_sentences(
    weights: dict[str, float], chunks: list[Chunk], experiment: str = ""
) -> list[Headline]:
    """The result sentences of `chunks` (abstract, conclusion), those naming the topic's rarer terms first;
    `weights` come from `topic_weights`. Values another experiment obtained are left out."""
    seen: set[str] = set()
    out: list[Headline] = []
    for chunk in chunks:
        for text in sentences(" ".join(chunk.text.split())):
            key = re.sub(r"\W+", "", text.lower())
            if key in seen or not re.match(r"[A-Z]", text) or not text.endswith("."):
                continue
            seen.add(key)
            probe = chunk.model_copy(update={"text": text})
            values = [(q, v) for q, v, ctx in key_numbers.measurements(probe) if _own(ctx, experiment)]
            measured = [q for q, _ in values if not q.startswith("predicted")]
            named = [q for q in measured if q != "measured value"]
            if not measured or (not named and not any(k in text.lower() for k in _RESULT)):
                continue  # no value, only predictions, or an unlabelled number outside a result sentence
            words = set(terms(text))
            topical = round(sum(w for t, w in weights.items() if t in words), 6)
            out.append(Headline(text, chunk.chunk_id, values, topical, len(out)))
    return sorted(out, key=lambda h: (-h.topical, h.order))


def _own(context: str, experiment: str) -> bool:
    return not experiment or key_numbers.experiment_of(context, experiment) == experiment


def compose(doc: Document, found: list[Headline]) -> tuple[str, list[str]] | None:
    """The paper's headline result as one sentence and the chunk ids it cites, or None without one.

    The observed significance (with the expected one of the same sentence) and the signal strength come
    from the most topical sentences that state them; nothing is computed or rounded.
    """
    parts: list[str] = []
    cites: list[str] = []
    significance = next((h for h in found if _value(h, "observed significance")), None)
    if significance is not None:
        observed = _value(significance, "observed significance")
        expected = _value(significance, "expected significance")
        cites.append(significance.chunk_id)
        if expected is None:  # stated in another result sentence: the same observed value with its
            # expected one, or the sentence right after ("The corresponding expected significance is …")
            pair = _expected_for(found, significance, observed)
            if pair is not None:
                expected = _value(pair, "expected significance")
                cites.append(pair.chunk_id)
        parts.append(f"observed significance {observed}" + (f" ({expected} expected)" if expected else ""))
    strength = next((h for h in found if _value(h, "signal strength μ")), None)
    if strength is not None and (significance is None or strength.topical >= significance.topical):
        parts.append(f"signal strength μ = {_value(strength, 'signal strength μ')}")
        cites.append(strength.chunk_id)
    if not parts:
        return None
    who = f"{doc.collaboration} ({doc.short_name.split()[-1]})" if doc.collaboration else doc.short_name
    return f"{who}: {'; '.join(parts)}.", list(dict.fromkeys(cites))


def _expected_for(found: list[Headline], significance: Headline, observed: str | None) -> Headline | None:
    """Another result sentence giving the expected significance of `significance`'s observed one."""
    for h in found:
        if _value(h, "observed significance") == observed and _value(h, "expected significance"):
            return h
    for h in found:
        follows = h.order == significance.order + 1 and h.chunk_id == significance.chunk_id
        if follows and _value(h, "expected significance") and not _value(h, "observed significance"):
            return h
    return None


def _value(headline: Headline, quantity: str) -> str | None:
    return next((v for q, v in headline.values if q == quantity), None)
