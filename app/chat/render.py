"""Safe rendering of untrusted document text as Streamlit markdown: escaped, never HTML."""

from __future__ import annotations

import re

from heprag.app.answer import Answer, Sentence

# Every ASCII punctuation character CommonMark can backslash-escape that changes rendering.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$:])")
_FLAG_WORDS = {"uncited": "no citation", "unsupported": "not supported by the cited passage"}


def escape_markdown(text: str) -> str:
    """Text that Streamlit's markdown shows literally: no HTML, links, emphasis, LaTeX or directives.

    `<` `>` `&` become entities (so `<script>` is shown, never parsed) and markdown punctuation is
    backslash-escaped; newlines are kept as line breaks.
    """
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    return text.replace("\r", "").replace("\n", "  \n")


def highlighted_passage(chunk_text: str, start: int | None, end: int | None, quote: str = "") -> str:
    """Markdown of a chunk with its quoted span highlighted; all document text escaped."""
    if start is None or end is None or not 0 <= start < end <= len(chunk_text):
        found = chunk_text.find(quote) if quote else -1
        if found < 0:
            return escape_markdown(chunk_text)
        start, end = found, found + len(quote)
    before, span, after = chunk_text[:start], chunk_text[start:end], chunk_text[end:]
    span_md = escape_markdown(" ".join(span.split()))  # a directive must stay on one line
    return f"{escape_markdown(before)}:orange-background[{span_md}]{escape_markdown(after)}"


def flag_note(flags: list[str]) -> str:
    """Plain words for validator flags, e.g. 'ungrounded:3.0σ' -> 'number 3.0σ not found in the source'."""
    notes: list[str] = []
    for flag in flags:
        kind, _, detail = flag.partition(":")
        if kind == "ungrounded":
            notes.append(f"number {detail} not found in the cited passage")
        elif kind == "unknown-citation":
            notes.append(f"cites a passage [{detail}] that was not retrieved")
        else:
            notes.append(_FLAG_WORDS.get(kind, flag))
    return "; ".join(notes)


def sentence_markdown(sentence: Sentence) -> str:
    """One answer sentence, escaped, with its [n] markers; flagged sentences are visibly marked."""
    markers = "".join(f" \\[{n}\\]" for n in sentence.citations)
    body = escape_markdown(sentence.text) + markers
    if sentence.flags:
        return f":red[⚠ {body}] :red-background[{escape_markdown(flag_note(sentence.flags))}]"
    return body


def answer_markdown(answer: Answer) -> str:
    """The answer as markdown: sentences with inline [n] citations, flagged ones marked."""
    if not answer.sentences:
        return escape_markdown(answer.answer)
    return " ".join(sentence_markdown(s) for s in answer.sentences)


def flagged_count(answer: Answer) -> int:
    return sum(1 for s in answer.sentences if s.flags)
