"""Number grounding: every number with a unit or significance in an answer must appear in its source.

`extract_numbers("m_H = 125.09 GeV, 3.0σ with 139 fb⁻¹")` → `['125.09 gev', '3.0σ', '139 fb-1']`.
Both sides go through the same normalisation (unicode NFKC, minus signs, ± forms, ×10^n vs e-notation,
fb-1 / fb⁻¹ / fb^{-1}, thin and non-breaking spaces, LaTeX like `\\sigma`, `\\pm`, `\\,`), so a number
written differently in the answer and in the PDF text still matches.
"""

from __future__ import annotations

import re
import unicodedata

# Units (and "standard deviations") that make a bare number a physics quantity worth checking.
UNITS = [
    "tev", "gev", "mev", "kev", "ev",
    "fb-1", "pb-1", "nb-1", "ab-1", "mb-1", "fb", "pb", "nb", "ab", "mb",
    "σ", "sigma", "standard deviations", "standard deviation", "s.d.",
    "%", "cm-2s-1", "cm-2 s-1", "mrad", "rad", "ns", "ps", "μs", "ms", "s",
    "mm", "cm", "μm", "m", "km", "hz", "khz", "mhz",
]  # fmt: skip
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
_LATEX = [
    (r"\\(?:sigma)\b", "σ"), (r"\\pm\b", "±"), (r"\\mp\b", "∓"), (r"\\times\b", "×"), (r"\\mu\b", "μ"),
    (r"\\(?:,|;|:|!| |quad|qquad|thinspace)", " "), (r"\\(?:mathrm|text|rm|mbox)\s*\{([^{}]*)\}", r"\1"),
    (r"\$", ""),
]  # fmt: skip
_NUM = r"[+-]?\d+(?:\.\d+)?(?:e[+-]?\d+)?"
_UNIT_RE = "|".join(re.escape(u) for u in sorted(UNITS, key=len, reverse=True))
_PM = r"(?:±|∓)"
# number (± error)* unit — a unit or a σ must follow for a bare number to count.
QUANTITY = re.compile(
    rf"(?<![\w.])(?P<value>{_NUM}(?:\s*{_PM}\s*{_NUM})*)\s*(?P<unit>{_UNIT_RE})(?![\w])", re.IGNORECASE
)
# "μ = 1.2 ± 0.6": a value with an uncertainty counts even without a unit.
WITH_ERROR = re.compile(rf"(?<![\w.])(?P<value>{_NUM}(?:\s*{_PM}\s*{_NUM})+)(?!\w|\.\d)")
# What may sit between a value and its unit in a passage: uncertainties, "(stat.)", "+0.6 -0.5".
_ERRORS = re.compile(
    rf"^\s*(?:(?:{_PM}|\+|-)\s*\d+(?:\.\d+)?(?:e[+-]?\d+)?\s*(?:\((?:stat|syst|exp|th|theo|theory)\.?\))?\s*)*"
)

_BRACKETED = re.compile(rf"^\(\s*{_NUM}\s*\)\s*")


def normalise(text: str) -> str:
    """Canonical form of physics text for comparing numbers (idempotent)."""
    for pattern, repl in _LATEX:
        text = re.sub(pattern, repl, text)
    text = unicodedata.normalize("NFKC", text).translate(_SUPERSCRIPTS)
    text = re.sub(r"[\u2010-\u2015\u2212\ufe63\uff0d]", "-", text)  # hyphens, dashes, minus → "-"
    text = re.sub(r"[\u00a0\u2000-\u200b\u202f\u205f\u3000\t]", " ", text)  # thin / nb spaces
    text = text.replace("+/-", "±").replace("+-", "±")
    # 1.2 ×10^-3, 1.2 x 10^{-3}, 1.2·10−3 → 1.2e-3
    text = re.sub(r"(\d)\s*(?:×|x|\*|·)\s*10\s*\^?\s*\{?\s*([+-]?\d+)\s*\}?", r"\1e\2", text)
    text = re.sub(r"\^\s*\{\s*([+-]?\d+)\s*\}", r"\1", text)  # fb^{-1} → fb-1
    text = re.sub(r"\^\s*([+-]?\d+)", r"\1", text)  # fb^-1 → fb-1
    text = re.sub(r"\b([fpnam]b|s)\s+-1\b", r"\1-1", text, flags=re.IGNORECASE)  # "fb -1" from PDFs
    text = re.sub(  # 13 000 → 13000
        r"(?<![\d.])(\d{1,3})((?: \d{3})+)\b(?!\.\d)",
        lambda m: m.group(1) + m.group(2).replace(" ", ""),
        text,
    )
    text = re.sub(r"\s*±\s*", " ± ", text)
    return re.sub(r"\s+", " ", text).lower()  # a PDF line break inside "standard\ndeviations" too


def _canonical_value(value: str) -> str:
    parts = [p.replace(" ", "") for p in re.split(r"\s*(?:±|\+-|-\+|∓)\s*", value)]
    return " ± ".join(parts)


def _canonical_unit(unit: str) -> str:
    unit = unit.lower()
    if unit in {"sigma", "standard deviations", "standard deviation", "s.d."}:
        return "σ"
    return unit


def _join(value: str, unit: str) -> str:
    return f"{value}{unit}" if unit in {"σ", "%"} else f"{value} {unit}"


def extract_numbers(text: str) -> list[str]:
    """The quantities of `text` (number + unit or significance, or value ± error), normalised, in order."""
    norm = normalise(text)
    found: list[tuple[int, str]] = []
    for m in QUANTITY.finditer(norm):
        found.append((m.start(), _join(_canonical_value(m.group("value")), _canonical_unit(m.group("unit")))))
    taken = [m.span() for m in QUANTITY.finditer(norm)]
    for m in WITH_ERROR.finditer(norm):
        if not any(s <= m.start() < e for s, e in taken):
            found.append((m.start(), _canonical_value(m.group("value"))))
    return list(dict.fromkeys(q for _, q in sorted(found)))


def _values(quantity: str) -> list[str]:
    """The numeric parts of a normalised quantity ('1.2 ± 0.6' → ['1.2', '0.6'])."""
    return re.findall(r"\d+(?:\.\d+)?(?:e[+-]?\d+)?", quantity)


def _unit(quantity: str) -> str:
    for unit in sorted({_canonical_unit(u) for u in UNITS}, key=len, reverse=True):
        if quantity.endswith(unit) and not quantity[: -len(unit)].rstrip().endswith(("e", "-")):
            return unit
    return ""


def _unit_follows(unit: str, tail: str) -> bool:
    tail = tail[_ERRORS.match(tail).end() :].lstrip(" )]}")  # type: ignore[union-attr]
    tail = _BRACKETED.sub("", tail, count=1)  # "5.4 (5.5) standard deviations": observed (expected)
    if unit == "σ":
        return bool(re.match(r"(?:σ|sigma|standard deviation|s\.d\.)", tail))
    return tail.startswith(unit)


def _present(quantity: str, passage: str, passage_quantities: set[str]) -> bool:
    """`quantity` is in the passage: verbatim, or its numbers in order (errors between them) + unit."""
    if quantity in passage_quantities:
        return True
    values = _values(quantity)
    if not values:
        return False
    unit = _unit(quantity)
    pattern = r"(?<![\d.])" + r"[^\d]{0,12}?".join(re.escape(v) for v in values) + r"(?![\d]|\.\d)"
    return any(
        not unit or _unit_follows(unit, passage[m.end() : m.end() + 60])
        for m in re.finditer(pattern, passage)
    )


def ungrounded_numbers(sentence: str, passages: list[str]) -> list[str]:
    """The quantities of `sentence` that appear in none of `passages` (after normalisation)."""
    wanted = extract_numbers(sentence)
    if not wanted:
        return []
    normed = [normalise(p) for p in passages]
    known = [set(extract_numbers(p)) for p in passages]
    return [q for q in wanted if not any(_present(q, n, k) for n, k in zip(normed, known, strict=True))]
