"""Suggested follow-up questions after an answer, built from what its passages mention."""

from __future__ import annotations

import re

from heprag.app.answer import Answer
from heprag.app.glossary import GlossaryEntry, terms_in

_SECTION_NUMBER = re.compile(r"^\s*[\dA-Z]+(?:\.\d+)*\.?\s+")


def suggest_followups(answer: Answer, glossary: list[GlossaryEntry], k: int = 3) -> list[str]:
    """Up to `k` questions: unexplained jargon in the cited passages, then the sections they come from.

    Nothing already asked is suggested again (a term in the question is not re-asked).
    """
    question = answer.question.lower()
    passages = " ".join(h.chunk.text for h in answer.hits[:5]) if answer.hits else ""
    passages += " " + " ".join(c.quote for c in answer.citations)
    out: list[str] = []
    for entry in sorted(terms_in(passages, glossary), key=lambda e: -e.occurrences):
        if entry.term.lower() in question or entry.definition.lower() in question:
            continue
        name = f"{entry.definition} ({entry.term})" if entry.kind == "acronym" else entry.term
        out.append(f"What is the {name}?" if entry.kind == "acronym" else f"How is the {name} defined?")
        if len(out) >= (k + 1) // 2:
            break
    seen_sections: set[str] = set()
    for hit in answer.hits:
        if not hit.chunk.section:
            continue
        section = _SECTION_NUMBER.sub("", hit.chunk.section[-1]).strip()
        if not section or section.lower() in question or section.lower() in seen_sections:
            continue
        if section.lower() in {"abstract", "introduction", "conclusion", "conclusions", "summary"}:
            continue
        seen_sections.add(section.lower())
        source = hit.chunk.label.split(" §")[0].split(",")[0]
        out.append(f"What does {source} say about {section.lower()}?")
        if len(out) >= k:
            break
    return out[:k]
