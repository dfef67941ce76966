"""The answer scoring rule of `../shared/qa/README.md`, written for heprag (not copied), and its report.

- correct: after NFKC, lower-casing, collapsed spaces, `−`/`-`, `·`/`×` and `10^-4`/`10−4` treated alike,
  the answer contains the canonical answer or an alias, or every one of the canonical answer's first two
  numbers; a refusal is never correct;
- refusals of answerable and of unanswerable questions;
- whether the gold document is cited / among the retrieved passages (`gold_matches`);
- fragments: answer sentences cut at an abbreviation ("Refs.", "Oct.", "e.g."), ending in a dangling
  signed number ("+110") or a hyphenated line end, or opening mid-sentence.

`split_items` makes the fixed-seed tune/report halves; nothing is calibrated on the report half.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from heprag.evals.datasets import QAItem

SPLIT_SEED = 20261201
_DASHES = str.maketrans({"−": "-", "–": "-", "—": "-", "‐": "-", "·": "×", "⋅": "×"})
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_CUT_ABBREVIATION = re.compile(
    r"(?:\b(?:refs?|figs?|eqs?|secs?|tabs?|e\.g|i\.e|et al|cf|vs|"
    r"jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec)\.?)$",
    re.IGNORECASE,
)
_DANGLING = re.compile(r"(?:(?<![\d.]\s)(?<![\d.])\+\s*\d+(?:\.\d+)?|[+±−=×-])\s*$")  # "+110" with no "−100"
_HYPHEN_END = re.compile(r"[A-Za-z]-\s*$")


def normalise_for_match(text: str) -> str:
    """NFKC, lower case, one space, dashes and products alike, `10^-4` ≡ `10-4`, no citation markers."""
    text = re.sub(r"\[\d+(?:\s*[,;–-]\s*\d+)*\]", " ", text)
    text = unicodedata.normalize("NFKC", text).translate(_DASHES).lower()
    text = re.sub(r"\^\s*\{?\s*([+-]?\d+)\s*\}?", r"\1", text)
    text = re.sub(r"\s*([×±])\s*", r" \1 ", text)
    return re.sub(r"\s+", " ", text).strip()


def first_numbers(text: str, count: int = 2) -> list[str]:
    return _NUMBER.findall(normalise_for_match(text))[:count]


def is_correct(answer: str, refused: bool, canonical: str, aliases: Sequence[str]) -> bool:
    """The shared QA README's rule (see the module docstring)."""
    if refused or not canonical:
        return False
    haystack = normalise_for_match(answer)
    if any(ref and normalise_for_match(ref) in haystack for ref in [canonical, *aliases]):
        return True
    numbers = first_numbers(canonical)
    found = set(_NUMBER.findall(haystack))
    return bool(numbers) and all(n in found for n in numbers)


def fragment_reason(sentence: str) -> str | None:
    """Why an answer sentence is a fragment, or None for a whole sentence."""
    text = re.sub(r"(?:\s*\[\d+\])+\s*([.!?]?)\s*$", r"\1", sentence.strip())  # drop trailing [n]
    body = text.rstrip(".!?… ").rstrip()
    if not body:
        return "empty"
    if _CUT_ABBREVIATION.search(body):
        return "cut at an abbreviation"
    if _HYPHEN_END.search(body):
        return "hyphenated line end"
    if _DANGLING.search(body):
        return "dangling number or operator"
    if body[0].islower() or body[0] in ",;:)]":
        return "starts mid-sentence"
    if body.count(")") > body.count("("):
        return "unbalanced parenthesis"
    return None


def gold_matches(gold: str, descriptors: Iterable[str]) -> bool:
    """Whether a document described by `descriptors` (doc id, source paths, record ids) is the gold one.

    Gold forms: an arXiv id with version (`2007.07830v2`), a path relative to the corpus folder, an
    INSPIRE record id, or `path#id` for one line of an abstracts file.
    """
    gold = gold.strip()
    if not gold:
        return False
    record = gold.partition("#")[2]
    for d in descriptors:
        d = d.strip()
        if not d:
            continue
        if record:
            if d.endswith(gold) or (record in d and ("arxiv" in d.lower() or d.endswith(record))):
                return True
            continue
        if re.fullmatch(r"\d+", gold):
            if re.search(rf"(?:inspire|recid|literature)[:/=]\s*{gold}\b", d, re.IGNORECASE) or d == gold:
                return True
        elif "/" in gold:
            if d == gold or d.endswith("/" + gold) or d.endswith(gold):
                return True
        elif re.search(rf"(?<![\d.]){re.escape(gold)}(?!\d)", d):
            return True
    return False


@dataclass
class QuestionScore:
    id: str
    source_type: str
    kind: str
    answerable: bool
    refused: bool
    correct: bool
    gold_cited: bool | None
    gold_retrieved: bool | None
    fragments: list[str] = field(default_factory=list)
    seconds: float = 0.0


def split_items(items: Sequence[QAItem], seed: int = SPLIT_SEED) -> tuple[list[QAItem], list[QAItem]]:
    """(tune, report): a fixed-seed half of each source type in each part."""
    tune: list[QAItem] = []
    report: list[QAItem] = []
    groups: dict[str, list[QAItem]] = {}
    for item in items:
        groups.setdefault(item.source_type or item.kind, []).append(item)
    rng = random.Random(seed)
    for name in sorted(groups):
        group = sorted(groups[name], key=lambda i: i.id)
        rng.shuffle(group)
        half = (len(group) + rng.randint(0, 1)) // 2
        tune += group[:half]
        report += group[half:]
    return sorted(tune, key=lambda i: i.id), sorted(report, key=lambda i: i.id)


def summarise(scores: Sequence[QuestionScore]) -> dict[str, float | int]:
    """The headline figures of a set of scored questions."""
    answerable = [s for s in scores if s.answerable]
    unanswerable = [s for s in scores if not s.answerable]
    cited = [s.gold_cited for s in answerable if s.gold_cited is not None]
    retrieved = [s.gold_retrieved for s in answerable if s.gold_retrieved is not None]

    def mean(values: Sequence[bool]) -> float:
        return sum(values) / len(values) if values else float("nan")

    times = sorted(s.seconds for s in scores)
    return {
        "n": len(scores),
        "correct": mean([s.correct for s in answerable]),
        "gold_cited": mean(cited),
        "gold_retrieved": mean(retrieved),
        "answerable_refused": mean([s.refused for s in answerable]),
        "unanswerable_refused": mean([s.refused for s in unanswerable]),
        "fragments": sum(len(s.fragments) for s in scores),
        "p50_s": times[len(times) // 2] if times else 0.0,
        "p95_s": times[min(len(times) - 1, int(len(times) * 0.95))] if times else 0.0,
    }
