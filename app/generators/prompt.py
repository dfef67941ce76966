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


def build_messages(
    question: str, passages: list[Hit], max_sentences: int = 4, audience: Audience = "researcher"
) -> list[dict[str, str]]:
    """Chat messages (system + user) for an OpenAI-compatible chat model, in the prompt for `audience`."""
    system, user = template(PROMPT_VERSIONS[audience])
    system = system.replace("{refusal_phrase}", REFUSAL_PHRASE).replace("{max_sentences}", str(max_sentences))
    quoted = "\n\n".join(quote_passage(n, hit) for n, hit in enumerate(passages, start=1))
    values = {"passages": quoted or "(no passages)", "question": question.strip()}
    user = re.sub(r"\{(passages|question)\}", lambda m: values[m.group(1)], user)  # one pass: no re-expansion
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]
