"""LaTeX fragments to plain text: pylatexenc with a safety net, squashed spaces, balanced groups."""

from __future__ import annotations

import re

from pylatexenc.latex2text import LatexNodes2Text

_CONVERTER = LatexNodes2Text(math_mode="text")


def latex_to_text(latex: str) -> str:
    """LaTeX to plain text with pylatexenc (whose 2.11 crashes on `\\href`); never raises."""
    latex = re.sub(r"\\href\s*\{[^{}]*\}|\\(?:[vh]skip|hangindent)\s*=?\s*-?[\d.]+\s*[a-z]{2}", "", latex)
    try:
        text = _CONVERTER.latex_to_text(latex)
    except Exception:  # malformed input can raise IndexError, RecursionError...
        text = re.sub(r"\\[A-Za-z]+\*?|[{}$]", " ", latex)
    return text.replace("\u00a0", " ")


def squash(text: str) -> str:
    return " ".join(text.split())


def group(text: str, start: int, open_: str = "{", close: str = "}") -> tuple[str, int]:
    """Content of the balanced group opening at text[start] (after spaces) and the index after it."""
    i = re.compile(r"\s*").match(text, start).end()  # type: ignore[union-attr]
    if i >= len(text) or text[i] != open_:
        return "", start
    depth, j = 0, i
    while j < len(text):
        if text[j] == "\\":
            j += 2
            continue
        depth += (text[j] == open_) - (text[j] == close)
        if depth == 0:
            return text[i + 1 : j], j + 1
        j += 1
    return text[i + 1 :], len(text)
