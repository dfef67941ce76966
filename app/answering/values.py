"""Does a sentence state a value of the asked quantity? One pattern per `Quantity`, over normalised text."""

from __future__ import annotations

import re

from heprag.app.answering.question import Quantity
from heprag.app.grounding import normalise

_N = r"\d+(?:\.\d+)?"
_VALUE: dict[Quantity, re.Pattern[str]] = {
    "significance": re.compile(
        rf"{_N}\s*(?:\(\s*{_N}\s*\)\s*)?(?:σ|sigma\b|standard deviation)|p0\s*=", re.I
    ),
    "signal_strength": re.compile(
        rf"(?:μ\u0302?|mu\b|signal strength)[^.;=]{{0,40}}?(?:=|\bof\b|\bis\b|\bbe\b)\s*[+-]?{_N}"
        rf"|{_N}\s*(?:±|\+\s*{_N}\s*-)\s*{_N}",
        re.I,
    ),
    "mass": re.compile(rf"{_N}\s*(?:±\s*{_N}\s*(?:\([a-z.]+\)\s*)?)*(?:gev|mev|kev)\b", re.I),
    "cross_section": re.compile(
        rf"{_N}(?:\s*[±+-]\s*{_N})*\s*(?:\([a-z.]+\)\s*)?(?:fb|pb|nb|mb)\b(?!-1)", re.I
    ),
    "limit": re.compile(
        rf"upper limit|lower limit|<\s*{_N}|>\s*{_N}|exclud|{_N}\s*%\s*c\.?l|less than|below\s+{_N}", re.I
    ),
    "luminosity": re.compile(rf"{_N}\s*(?:fb|pb|nb)-1", re.I),
    "percent": re.compile(rf"{_N}\s*%|per ?cent", re.I),
    "year": re.compile(r"\b(?:19|20)\d{2}\b"),
    "count": re.compile(
        r"\b\d[\d,]*(?:\.\d+)?\s*(?:k|m|million|thousand)?\b|\b(?:one|two|three|four|five|"
        r"six|seven|eight|nine|ten|twelve|hundred|thousand|dozen)\b",
        re.I,
    ),
    "factor": re.compile(rf"factor|{_N}\s*(?:×|x|times)\b|\btimes\b|speed-?up|{_N}\s*[-–]\s*{_N}", re.I),
    "time": re.compile(  # a time of day, a duration, a date, a month, a season or a year
        r"\b\d{1,2}:\d{2}\b|\b\d{4}\s*(?:utc|z)\b|\b(?:am|pm|utc|minutes?|hours?|days?|weeks?)\b"
        r"|\b(?:19|20)\d{2}\b|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s|"
        r"\b(?:spring|summer|autumn|fall|winter)\b",
        re.I,
    ),
    "width": re.compile(rf"{_N}\s*(?:mev|gev|kev)", re.I),
    "ratio": re.compile(rf"{_N}\s*(?:e-?\d+|%)|{_N}\s*(?:±|\+)", re.I),
    "coupling": re.compile(rf"(?:κ|kappa)[^.;]{{0,30}}?{_N}|{_N}\s*±\s*{_N}", re.I),
    "generic": re.compile(r"\d"),
}

# The quantity named in the sentence as well: a GeV value is a width only where the sentence speaks of one.
_NAMED: dict[Quantity, re.Pattern[str]] = {
    "width": re.compile(r"\bwidth|γ_?h\b", re.I),
    "cross_section": re.compile(r"cross[- ]?sections?|σ|\bsigma\b", re.I),
    "mass": re.compile(r"\bmass", re.I),
    "coupling": re.compile(r"coupling|κ|kappa", re.I),
    "ratio": re.compile(r"ratio|fraction|\bb\(|\bbr\b", re.I),
}
_MASS_HYPOTHESIS = re.compile(rf"\bm_?\{{?h\}}?\s*=\s*{_N}\s*(?:gev)?", re.I)


def states_value(sentence: str, quantity: Quantity | None) -> bool:
    """True when `sentence` contains a value of `quantity` (any sentence qualifies when None)."""
    if quantity is None:
        return True
    text = normalise(sentence)
    if quantity != "mass":  # "for mH = 126 GeV" states the hypothesis, not the value asked
        text = _MASS_HYPOTHESIS.sub(" ", text)
    named = _NAMED.get(quantity)
    return bool(_VALUE[quantity].search(text)) and (named is None or bool(named.search(text)))
