"""Key numbers: measured quantities with uncertainties, √s and luminosity, read from cited passages.

Values are taken from the passage text (after `grounding.normalise`), so every one can be checked
against the passage it cites: `found_in_passage(value, passage)` is that check, and it is strict —
a value with no number in it, or whose numbers and unit are not in the passage in order, fails.
"""

from __future__ import annotations

import re

from heprag.app.grounding import normalise, ungrounded_numbers
from heprag.index.types import Chunk

NUM = r"\d+(?:\.\d+)?"
_UNC = rf"(?:±\s*{NUM}|\+\s*{NUM}\s*-\s*{NUM})(?:\s*\((?:stat|syst?|exp|th|theo|theory)\.?\))?"
_LIST = rf"{NUM}(?:\s*(?:,\s*and|,|and)\s*{NUM})*"
_SIGMA = r"(?:σ|sigma\b|standard deviations?\b|s\.d\.)"
SIGNIFICANCE = re.compile(rf"(?<![\w.])({NUM})\s*{_SIGMA}")
# "an observed (expected) significance of 5.4 (5.5) standard deviations"
PAIRED_SIGNIFICANCE = re.compile(rf"(?<![\w.])({NUM})\s*\(\s*({NUM})\s*\)\s*{_SIGMA}")
WITH_UNC = re.compile(rf"(?<![\w.])({NUM}(?:\s*{_UNC})+)(?:\s*(fb|pb|gev|tev)(?![\w-]))?")
_NOT_UNC = r"(?<![\w.±-])(?<!±\s)"  # a number, not the uncertainty of the one before it ("20.3 ± 0.6 fb-1")
LIMIT = re.compile(rf"{_NOT_UNC}({NUM})\s*(times|fb|pb)\b(?!-)")
SQRT_S = re.compile(rf"(?:√\s*s|sqrt\s*\(?s\)?|\bs)\s*=\s*({_LIST})\s*tev\b")
LUMI = re.compile(rf"{_NOT_UNC}({_LIST})\s*(fb-1|pb-1)")
MASS = re.compile(rf"(?:mass(?:es)?\s+(?:of\s+)?|m_?h\s*=\s*)({NUM}(?:\s*{_UNC})*)\s*gev\b")
_SPLIT = re.compile(r"^(?P<num>(?:[\d.,±+\-\s]|and)+?)\s*(?P<unit>(?!and\b)[^\d\s±+\-.,].*)?$")
_UNITS = {"gev": "GeV", "tev": "TeV", "fb": "fb", "pb": "pb", "fb-1": "fb⁻¹", "pb-1": "pb⁻¹", "times": "× SM"}
# What a quantity is, from the words just before it (nearest keyword wins).
_LABELS = [
    ("signal strength", "signal strength μ"),
    ("μ =", "signal strength μ"),
    ("cross section", "cross section"),
    ("cross-section", "cross section"),
    ("upper limit", "upper limit"),
    ("branching", "branching fraction"),
    ("coupling", "coupling modifier"),
    ("mass", "mass"),
]
# "The ratio of the measured event yield … to the Standard Model expectation is 1.01 ± 0.12": a μ.
_RATIO_TO_SM = re.compile(r"ratio of the (?:measured|observed)[^.]{0,120}?to the (?:sm|standard model)")
_PREDICTED = re.compile(r"\b(?:predict\w*|expected|expectation|theor\w*|calculat\w*|sm value|sm cross)")
_MEASURED = re.compile(r"\b(?:measur\w*|observ\w*|found|obtained|extracted|fitted|best-fit)")
# Experiments and colliders a passage may quote besides its own collaboration.
# (Matched in lower-cased text: names that are also ordinary tokens, like LEP/lep or D0/d0, are left out.)
EXPERIMENTS = ["ATLAS", "CMS", "LHCb", "ALICE", "CDF", "DØ", "Tevatron", "ALEPH", "DELPHI", "OPAL",
               "Belle II", "Belle", "BaBar", "BESIII", "ZEUS"]  # fmt: skip
_EXPERIMENT = re.compile(
    r"(?<![\w-])(" + "|".join(re.escape(e) for e in EXPERIMENTS) + r")(?![\w-])", re.IGNORECASE
)
_CANONICAL = {e.lower(): e for e in EXPERIMENTS}


def flat(text: str) -> str:
    """Normalised passage text on one line (PDF text breaks lines inside '1.26+0.31\\n-0.26')."""
    return re.sub(r"\s+", " ", normalise(text))


def _pretty(value: str) -> str:
    value = re.sub(r"\s*±\s*", " ± ", value)
    value = re.sub(rf"\+\s*({NUM})\s*-\s*({NUM})", r"+\1 −\2", value)
    return re.sub(r"\s+", " ", value).strip()


def _label(before: str, default: str, unit: str = "") -> str:
    """What a value is, from the words just before it and its unit.

    A value in pb/fb is a cross section (× branching fraction when the passage says so), never a branching
    fraction; a value the passage calls predicted/expected (and not measured, nearer) is labelled so.
    """
    if re.search(r"μ[\w+→-]*\s*=\s*\(?$", before) or _RATIO_TO_SM.search(before[-160:]):
        return "signal strength μ"
    wide, before = before, before[-120:]
    best, where = default, -1
    for key, label in _LABELS:
        pos = before.rfind(key)
        if pos > where:
            best, where = label, pos
    if unit in {"fb", "pb"} and best in {"branching fraction", "measured value", "coupling modifier", "mass"}:
        # "σ × B … is 1.34 ± 0.12 pb …, in agreement with the SM prediction of 1.33 ± 0.08 pb": same quantity
        best = (
            "cross section × branching fraction" if "branching" in wide or "×" in before else "cross section"
        )
    elif unit in {"fb", "pb"} and best == "cross section" and "branching" in before[-80:]:
        best = "cross section × branching fraction"
    if best != "signal strength μ" and _prediction(before[-90:]):
        best = f"predicted {best}" if best != "measured value" else "predicted value"
    return best


def _prediction(before: str) -> bool:
    """The nearest of 'predicted/expected/theory' and 'measured/observed' before a value is a prediction."""
    predicted = [m.end() for m in _PREDICTED.finditer(before)]
    measured = [m.end() for m in _MEASURED.finditer(before)]
    return bool(predicted) and max(predicted) > max(measured, default=-1)


def experiment_of(context: str, own: str) -> str:
    """Whose result a value is: the passage's own collaboration, unless its sentence names only others
    ("… CDF and DØ reported an excess of 2.8σ" in a CMS paper is the Tevatron's result, not CMS's)."""
    context = re.sub(r"\b(cdf\s+and\s+)d0\b", r"\1dø", context, flags=re.IGNORECASE)
    named = list(dict.fromkeys(_CANONICAL[m.group(1).lower()] for m in _EXPERIMENT.finditer(context)))
    if not named or (own and own in named):
        return own
    return " and ".join(named)


def _significance_kind(before: str) -> str:
    """'observed (expected) ... 2.0σ(1.7σ)': the bracketed value is the expected one."""
    if re.search(r"observed\s*\(expected\)", before):
        return "expected" if before.rstrip().endswith("(") else "observed"
    before = re.sub(r"expected (?:sm )?backgrounds?", "", before)
    return "expected" if before.rfind("expect") > before.rfind("observ") else "observed"


def _window(text: str, start: int, end: int, width: int = 90) -> str:
    left = max(text.rfind(". ", 0, start) + 2, start - width, 0)
    right = text.find(". ", end)
    right = min(right if right >= 0 else len(text), end + width)
    return text[left:right].strip()


def measurements(chunk: Chunk) -> list[tuple[str, str, str]]:
    """(quantity, value, context) of the measured quantities of a passage, in passage order."""
    text = flat(chunk.text)
    found: list[tuple[int, str, str, str]] = []
    taken: list[tuple[int, int]] = []

    def add(start: int, end: int, quantity: str, value: str) -> None:
        if any(s < end and start < e for s, e in taken):
            return
        taken.append((start, end))
        found.append((start, quantity, value, _window(text, start, end)))

    for m in PAIRED_SIGNIFICANCE.finditer(text):
        before = text[max(0, m.start() - 120) : m.start()]
        if "significance" not in before[-80:]:
            continue
        flipped = re.search(r"expected\s*\(observed\)", before) is not None
        first, second = ("expected", "observed") if flipped else ("observed", "expected")
        add(m.start(1), m.end(1), f"{first} significance", f"{m.group(1)}σ")
        add(m.start(2), m.end(2), f"{second} significance", f"{m.group(2)}σ")
    for m in SIGNIFICANCE.finditer(text):
        before = text[max(0, m.start() - 120) : m.start()]
        if "." not in m.group(1) and "significance" not in before[-60:]:
            continue  # "1σ uncertainty", "within 1 standard deviation": not a result
        after = text[m.end() : m.end() + 30]
        kind = "expected" if re.match(r"\s*\)?\s*(?:is |was |are |were )?expected", after) else None
        add(m.start(), m.end(), f"{kind or _significance_kind(before)} significance", f"{m.group(1)}σ")
    for m in MASS.finditer(text):
        if "±" in m.group(1) or "+" in m.group(1):  # "for mH = 125 GeV" is a hypothesis, not a result
            add(m.start(1), m.end(), "mass", f"{_pretty(m.group(1))} GeV")
    for m in WITH_UNC.finditer(text):
        if re.match(r"\)?\s*(?:×|x)\s*10|e-?\d", text[m.end(1) : m.end(1) + 8]):
            continue  # "(2.17 ± 0.04) × 10-4": the scale factor is not part of what we would show
        if re.match(r"\s*(?:fb|pb|nb)-1", text[m.end() : m.end() + 8]):
            continue  # "79.8 ± 1.6 fb-1": an integrated luminosity (its own column)
        unit = _UNITS.get(m.group(2) or "", "")
        quantity = _label(text[max(0, m.start() - 200) : m.start()], "measured value", unit)
        if quantity == "measured value" and m.group(1).count("+") + m.group(1).count("±") > 2:
            continue  # a row of a systematic-uncertainty table, not a headline result
        add(m.start(), m.end(), quantity, f"{_pretty(m.group(1))} {unit}".strip())
    for m in LIMIT.finditer(text):
        before = text[max(0, m.start() - 120) : m.start()]
        if "limit" in before:
            add(m.start(), m.end(), "upper limit", f"{m.group(1)} {_UNITS[m.group(2)]}")
    return [(q, v, c) for _, q, v, c in sorted(found)]


def sqrt_s(chunk: Chunk) -> str | None:
    """The centre-of-mass energy stated in a passage, e.g. '13 TeV' or '7, 8 and 13 TeV'."""
    m = SQRT_S.search(flat(chunk.text))
    return f"{_list(m.group(1))} TeV" if m else None


def luminosity(chunk: Chunk) -> str | None:
    """The integrated luminosity stated in a passage, e.g. '139 fb⁻¹' or '5.1, 19.7 and 35.9 fb⁻¹'."""
    m = LUMI.search(flat(chunk.text))
    return f"{_list(m.group(1))} {_UNITS[m.group(2)]}" if m else None


def _list(values: str) -> str:
    numbers = re.findall(NUM, values)
    return numbers[0] if len(numbers) == 1 else ", ".join(numbers[:-1]) + " and " + numbers[-1]


def found_in_passage(value: str, passage: str) -> bool:
    """True when the value's numbers appear in the passage in order, with its unit after them.

    `ungrounded_numbers` (the chat answers' number check) must also pass when it recognises the value.
    """
    parts = _SPLIT.match(flat(value).replace("× sm", "times"))
    numbers = re.findall(NUM, parts.group("num")) if parts else []
    if not parts or not numbers:
        return False
    unit = (parts.group("unit") or "").strip()
    unit = {"σ": "(?:σ|sigma|standard deviation|s\\.d\\.)"}.get(unit, re.escape(unit))
    gap = r"(?:[^\d]{0,14}?)"
    pattern = r"(?<![\d.])" + gap.join(re.escape(n) for n in numbers) + r"(?![\d]|\.\d)"
    text = flat(passage)
    tail = r"[\s)\]}]*(?:\(\s*" + NUM + r"\s*\)\s*)?(?:(?:±|\+|-)\s*" + NUM + r"\s*(?:\(\w+\.?\)\s*)?)*"
    hits = [m for m in re.finditer(pattern, text) if not unit or re.match(tail + unit, text[m.end() :])]
    return bool(hits) and not ungrounded_numbers(value, [passage])
