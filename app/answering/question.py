"""What a question asks: the kind of answer, the quantity, the experiments and the metadata field.

`analyse("How significant is the H->mumu signal in ATLAS's 139 fb^-1 search, observed versus expected?")`
→ kind `value`, quantity `significance`, experiments `{ATLAS}`, wants_expected True.
Rules, not a model: they read the words people type (paraphrases included) and are checked by tests.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["value", "definition", "comparison", "metadata", "name", "fact"]
Quantity = Literal[
    "significance", "signal_strength", "mass", "cross_section", "limit", "luminosity", "percent",
    "year", "count", "factor", "time", "width", "ratio", "coupling", "generic",
]  # fmt: skip
MetaField = Literal["authors", "journal", "year", "arxiv", "report", "collaboration", "title", "doi"]

EXPERIMENTS = (
    "ATLAS", "CMS", "LHCb", "ALICE", "CDF", "D0", "DØ", "Belle II", "Belle", "BaBar", "BESIII", "IceCube",
    "KATRIN", "NA62", "SH0ES", "Planck", "WMAP", "JUNO", "DUNE", "T2K", "NOvA", "Super-Kamiokande", "LEP",
    "ALEPH", "DELPHI", "OPAL", "L3", "H1", "ZEUS", "Tevatron", "HERA", "sPHENIX", "PHENIX", "STAR",
    "ISOLDE", "COMPASS", "Fermi-LAT", "MicroBooNE", "XENONnT", "LZ", "PandaX", "Muon g-2",
)  # fmt: skip
_EXPERIMENT = re.compile(
    r"(?<![\w-])(" + "|".join(re.escape(e) for e in sorted(EXPERIMENTS, key=len, reverse=True)) + r")(?![\w])"
)

# (quantity, pattern over the lower-cased question); the first match wins, so specific before generic.
_QUANTITY_WORDS: list[tuple[Quantity, str]] = [
    ("signal_strength", r"signal[- ]strength|\bmu[- ]?hat\b|\bμ̂|\bmu\b|\bμ\b"),
    ("cross_section", r"cross[- ]sections?|σ\s*[×x]\s*b|sigma\s*x\s*b|\bfiducial\b"),
    ("significance", r"significan|\bsigmas?\b|standard deviations|\bσ\b|\bexcess(?:es)?\b|\bevidence\b"),
    ("width", r"\bwidth\b"),
    ("coupling", r"coupling|\bkappa|\bκ"),
    ("limit", r"upper limit|lower limit|\blimit\b|\bexclud|\bbound\b|\bcl range\b|\brange on\b"),
    ("mass", r"\bmass\b"),
    ("luminosity", r"luminosit|how much data"),
    ("factor", r"speed-?up|\bfaster\b|\bfactor\b|how many times|\bgrow"),
    ("percent", r"efficienc|mis-?tag|\brate\b|resolution|\bfraction\b|\bpercent|%|working point|purity"),
    ("ratio", r"\bratio\b|branching"),
    ("time", r"\bwhat time\b|at what time|\bhow long\b|\bdelay\b|\bwhen did\b|\bwhen was\b"),
    ("count", r"\bhow many\b|\bnumber of\b|\bcount\b"),
    ("year", r"\bwhich year\b|\bwhat year\b|\bin which year\b|\bwhen\b"),
]
_META_WORDS: list[tuple[MetaField, str]] = [
    ("journal", r"\bjournal\b|published in|publication|\bvolume\b|article number"),
    ("authors", r"\bwho (?:wrote|authored)|\b(?:the|list|names?) (?:of )?(?:the )?authors\b|\bwritten by\b"),
    ("arxiv", r"arxiv (?:id|number|identifier)|\beprint\b"),
    ("report", r"report number"),
    ("doi", r"\bdoi\b"),
]
_DEFINITION = re.compile(
    r"^\s*(?:what (?:is|are|does) (?:an? |the )?\S+(?: \S+)? (?:stand for|mean)|define|what is meant by)"
    r"|\bstand for\b|\bhow (?:is|are|does) .{0,60}\bdefine|\bdefinition of\b|\bwhat does .{1,40} mean\b",
    re.IGNORECASE,
)
_COMPARISON = re.compile(
    r"\bcompare[ds]?\b|\bversus\b|\bvs\.?\b|\bdiffer|\beach\b|\bboth\b|\b(?:and|or) by\b",
    re.IGNORECASE,
)
_PAIR = re.compile(
    rf"(?:{_EXPERIMENT.pattern})\W+(?:and|or|vs\.?|versus|with)\W+(?:by\W+)?(?:{_EXPERIMENT.pattern})"
)
_EXPECTED = re.compile(r"\bexpected\b|\bsensitivity\b|\bobserved\b|predict", re.IGNORECASE)
_ACCORDING = re.compile(
    r"\b(?:according to|in|as (?:summarised|recalled|quoted) in)\s+(?:the\s+)?(\w+)'?s?\b"
)


@dataclass
class Question:
    """The analysis of one question (see the module docstring)."""

    text: str
    kind: Kind
    quantity: Quantity | None = None
    meta: MetaField | None = None
    experiments: list[str] = field(default_factory=list)
    source_experiment: str | None = None  # "according to the ATLAS paper": whose document to read
    wants_expected: bool = False

    @property
    def why(self) -> bool:
        return bool(re.match(r"\s*why\b|.*\bwhy\b", self.text, re.IGNORECASE))

    @property
    def compares(self) -> bool:
        return self.kind == "comparison"


def experiments_in(text: str) -> list[str]:
    """Experiments named in `text`, in order, each once ('DØ' as 'D0')."""
    found = [m.group(1).replace("DØ", "D0") for m in _EXPERIMENT.finditer(text)]
    return list(dict.fromkeys(found))


def _quantity(lower: str) -> Quantity | None:
    for quantity, pattern in _QUANTITY_WORDS:
        if re.search(pattern, lower):
            return quantity
    return None


def analyse(text: str) -> Question:
    """Classify a question (see `Question`)."""
    lower = " ".join(text.lower().split())
    experiments = experiments_in(text)
    source = None
    for m in _ACCORDING.finditer(text):
        named = experiments_in(m.group(1))
        if named and re.search(r"\b(?:paper|letter|analysis|observation|note|publication|article)\b", text):
            source = named[0]
    meta = next((f for f, p in _META_WORDS if re.search(p, lower)), None)
    quantity = _quantity(lower)
    subjects = [e for e in experiments if e != source] if source else experiments
    if meta is not None:
        kind: Kind = "metadata"
    elif len(subjects) >= 2 or _PAIR.search(text) or (_COMPARISON.search(lower) and quantity is None):
        kind = "comparison"
    elif _DEFINITION.search(lower):
        kind = "definition"
    elif quantity is not None:
        kind = "value"
    elif re.match(r"\s*(?:which|who|what)\b", lower):
        kind = "name"
    else:
        kind = "fact"
    return Question(
        text=text,
        kind=kind,
        quantity=quantity,
        meta=meta,
        experiments=experiments,
        source_experiment=source,
        wants_expected=bool(_EXPECTED.search(lower)) or quantity == "significance",
    )
