"""The conversation as a markdown document with a numbered reference list per answer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence

from heprag.app.answer import Answer
from heprag.app.bibtex import bibtex
from heprag.index.types import Document


def _sentence_text(answer: Answer) -> str:
    if not answer.sentences:
        return answer.answer
    parts = []
    for s in answer.sentences:
        text = s.text + "".join(f" [{n}]" for n in s.citations)
        parts.append(f"{text} (⚠ {', '.join(s.flags)})" if s.flags else text)
    return " ".join(parts)


def conversation_markdown(
    answers: Sequence[Answer], document: Callable[[str], Document | None], title: str = "heprag conversation"
) -> str:
    """Every question and answer, then its references: label, title, link and the quoted passage."""
    lines = [f"# {title}", "", f"_Exported {dt.datetime.now().isoformat(timespec='minutes')}_", ""]
    for i, answer in enumerate(answers, 1):
        lines += [f"## Q{i}. {answer.question}", "", _sentence_text(answer), ""]
        if answer.citations:
            lines += ["**Closest passages**" if answer.refused else "**References**", ""]
        for c in answer.citations:
            doc = document(c.doc_id)
            title_part = f" — {doc.title}" if doc and doc.title else ""
            link = f" <{c.url}>" if c.url else ""
            lines.append(f"{c.n}. {c.label}{title_part}.{link}")
            if c.quote:
                lines.append(f"   > {' '.join(c.quote.split())}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def bibtex_for(docs: Iterable[Document | None]) -> str:
    """BibTeX of the cited papers (INSPIRE texkey when known), each once, logbook entries skipped."""
    seen: set[str] = set()
    entries: list[str] = []
    for doc in docs:
        if doc is None or doc.source_type != "paper" or doc.doc_id in seen:
            continue
        seen.add(doc.doc_id)
        entries.append(bibtex(doc))
    return "\n".join(entries)
