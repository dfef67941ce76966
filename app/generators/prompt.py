"""The versioned answer prompts (one per audience): numbered passages as quoted data, [n] per sentence."""

from __future__ import annotations

import re
from functools import cache
from importlib.resources import files

from heprag.app.answer import REFUSAL_PHRASE
from heprag.app.generators.base import Audience
from heprag.index.types import Hit

PROMPT_VERSIONS: dict[Audience, str] = {"researcher": "answer_v1", "newcomer": "answer_newcomer_v1"}
PROMPT_VERSION = PROMPT_VERSIONS["researcher"]
_TAG = re.compile(r"<\s*/?\s*passages?\b", re.IGNORECASE)
# What the question asks for (`expected_kind`, from the question analysis) → what the model is told.
EXPECTED_KINDS: dict[str, str] = {
    "value": (
        "a value: open with it, whole, with its uncertainties and unit exactly as the passage writes them, "
        "observed and expected where the passage gives both, and what was measured by which experiment."
    ),
    "name": "a name or a list of names: open with it, as the passage writes it.",
    "list": "a list: name every item the passages give, each with its citation.",
    "definition": "a definition: say what the term means in one sentence, as a passage defines it.",
    "comparison": "a comparison: state both sides, each with its value and citation, then how they differ.",
    "metadata": (
        "a fact about a document (authors, collaboration, journal, year, identifier): state it as the "
        "document record gives it."
    ),
    "logbook": "who, when or where for a logbook entry: state it as the entry records it.",
    "yes/no": "yes or no: open with the answer, then the passage that settles it.",
}


@cache
def template(version: str = PROMPT_VERSION) -> tuple[str, str]:
    """(system, user) parts of `app/prompts/<version>.txt`."""
    text = files("heprag.app").joinpath("prompts", f"{version}.txt").read_text(encoding="utf-8")
    system, user = text.split("### user\n", 1)
    return system.removeprefix("### system\n").strip(), user.strip()


def quote_passage(n: int, hit: Hit) -> str:
    """One passage as a delimited, labelled block; tags inside the text are defused so it stays data."""
    label = hit.chunk.label.replace('"', "'") or hit.chunk.doc_id
    body = _TAG.sub(lambda m: m.group().replace("<", "‹"), hit.chunk.text.strip())
    return f'<passage n="{n}" source="{label}">\n{body}\n</passage>'


def expected_line(expected_kind: str | None) -> str:
    """The line telling the model what kind of answer is wanted ('' when nothing is known)."""
    if not expected_kind or not expected_kind.strip():
        return ""
    kind = expected_kind.strip()
    return f"Expected answer: {EXPECTED_KINDS.get(kind.lower(), kind)}"


def build_messages(
    question: str,
    passages: list[Hit],
    max_sentences: int = 4,
    audience: Audience = "researcher",
    expected_kind: str | None = None,
) -> list[dict[str, str]]:
    """Chat messages (system + user) for an OpenAI-compatible chat model, in the prompt for `audience`.

    `expected_kind` (a key of EXPECTED_KINDS such as "value", "definition", "comparison", or a free
    description) adds an "Expected answer: …" line after the question; None keeps the prompt as it was.
    """
    system, user = template(PROMPT_VERSIONS[audience])
    system = system.replace("{refusal_phrase}", REFUSAL_PHRASE).replace("{max_sentences}", str(max_sentences))
    quoted = "\n\n".join(quote_passage(n, hit) for n, hit in enumerate(passages, start=1))
    values = {"passages": quoted or "(no passages)", "question": question.strip()}
    user = re.sub(r"\{(passages|question)\}", lambda m: values[m.group(1)], user)  # one pass: no re-expansion
    expected = expected_line(expected_kind)
    if expected:
        head, sep, tail = user.rpartition(f"Question: {values['question']}")
        user = f"{head}{sep}\n{expected}{tail}" if sep else f"{user}\n{expected}"
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]
