"""What an LLM copied instead of writing: prompt echoes, passage markup, the papers' own reference brackets.

A small model asked a question over numbered passages often prints its prompt back (`<<SYS>>`,
`<passage n="9" source="…">`, the system prompt's rules) or copies passage text together with the paper's
own citations (`… at the LHC [1][2][3][4][5][6].`, `as in Refs. [12–15]`). Those brackets look exactly
like heprag's `[n]` markers, so without this check a copied passage is shown as an answer "citing" eight
sources. `screen` splits generated text into sentences and separates the markers that are heprag
citations from those that were copied, with a flag for each finding:

- `prompt-echo` — the sentence contains prompt markup (chat-template tokens, `<passage>` tags, the
  prompt's headings) or repeats a run of the prompt's own words (blocking, see `validate.BLOCKING`);
- `copied-reference:[…]` — a bracket run that is a paper's reference, not a passage number: it follows
  "Ref./Refs./Eq./Fig./Table/Section", occurs in a given passage right after the same words, or has the
  shape of a reference list (four or more brackets in a row, or a range of three or more numbers). Its
  numbers are not citations; a sentence left without any citation is `uncited`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from heprag.app.citations import MARKER, numbers_of, split_marked
from heprag.index.types import Hit

# Chat-template tokens and the prompt's own markup, as small models echo them.
PROMPT_MARKUP = re.compile(
    r"<<\s*/?\s*SYS\s*>>|\[/?INST\]|<\s*/?\s*passages?\b|\bsource\s*=\s*\"|<\|[\w\s]{1,30}\|>"
    r"|<\s*/?\s*(?:start_of_turn|end_of_turn|bos|eos|s)\s*>|(?:^|\n)\s*#{2,}\s*(?:system|user|assistant)\b"
    r"|\bPassages\s*\(quoted data|(?:^|\n)\s*Question\s*:",
    re.IGNORECASE,
)
# Words before a bracket that make it a paper's reference ("Refs. [12-15]", "Eq. [3]", "Section [2]").
_REFERENCE_WORD = re.compile(
    r"\b(?:refs?|references?|eqs?|equations?|figs?|figures?|tables?|tabs?|sections?|secs?|chapters?"
    r"|appendix|arxiv)\.?\s*$",
    re.IGNORECASE,
)
_RUN = re.compile(rf"(?:{MARKER.pattern})+")
ECHO_NGRAM = 6  # consecutive prompt words a generated sentence must repeat to count as an echo
LIST_RUN = 4  # brackets in a row that read as a paper's reference list ("[1][2][3][4]")
LIST_RANGE = 3  # a range "[12–14]" or longer reads as a paper's reference list


@dataclass
class Screened:
    """One generated sentence: its text without markers, the passage numbers it cites, the findings."""

    text: str
    numbers: list[int]
    flags: list[str] = field(default_factory=list)

    @property
    def echo(self) -> bool:
        return "prompt-echo" in self.flags


def _words(text: str) -> list[str]:
    return re.findall(r"[^\W\d_]+", text.lower())


@cache
def _prompt_ngrams() -> frozenset[tuple[str, ...]]:
    """Word n-grams of every prompt's fixed text (quoted examples and placeholders left out)."""
    from heprag.app.generators.prompt import EXPECTED_KINDS, PROMPT_VERSIONS, template

    grams: set[tuple[str, ...]] = set()
    texts = [part for version in PROMPT_VERSIONS.values() for part in template(version)]
    texts += list(EXPECTED_KINDS.values())
    for text in texts:
        text = re.sub(r'"[^"\n]*"|\{[a-z_]+\}|\([^()\n]*\)', " ", text)  # examples, placeholders, asides
        words = _words(text)
        grams.update(tuple(words[i : i + ECHO_NGRAM]) for i in range(len(words) - ECHO_NGRAM + 1))
    return frozenset(grams)


def echoes_prompt(text: str) -> bool:
    """`text` carries prompt markup or repeats ECHO_NGRAM consecutive words of a prompt's instructions."""
    if PROMPT_MARKUP.search(text):
        return True
    words = _words(text)
    grams = _prompt_ngrams()
    return any(tuple(words[i : i + ECHO_NGRAM]) in grams for i in range(len(words) - ECHO_NGRAM + 1))


def _flat(text: str) -> str:
    return " ".join(text.split())


def _copied_from_passage(before: str, run: str, passages: list[str]) -> bool:
    """The run of brackets follows the same two words in a given passage (copied with its text)."""
    words = re.findall(r"[\w.−-]+", before)[-2:]
    if not words:
        return False
    brackets = [re.escape(_flat(m.group(0)).strip()) for m in MARKER.finditer(run)]
    pattern = r"\W{1,4}".join(re.escape(w) for w in words) + r"\W{0,3}" + r"\s*".join(brackets)
    return any(re.search(pattern, _flat(p)) for p in passages)


def _looks_like_reference_list(run: str) -> bool:
    groups = [m.group(1) for m in MARKER.finditer(run)]
    if len(groups) >= LIST_RUN:
        return True
    for group in groups:
        for part in re.split(r"[,;]", group):
            ends = [int(x) for x in re.split(r"[-–]", part) if x.strip()]
            if len(ends) == 2 and ends[1] - ends[0] + 1 >= LIST_RANGE:
                return True
    return False


def copied_runs(sentence: str, passages: list[str]) -> list[tuple[str, list[int]]]:
    """The bracket runs of a raw sentence that are a paper's references, with the numbers they hold."""
    out: list[tuple[str, list[int]]] = []
    for m in _RUN.finditer(sentence):
        run, before = m.group(0), sentence[: m.start()]
        if (
            _REFERENCE_WORD.search(before)
            or _looks_like_reference_list(run)
            or _copied_from_passage(before, run, passages)
        ):
            out.append((_flat(run).strip(), numbers_of(run)))
    return out


def screen(text: str, hits: list[Hit], checks: bool = True) -> list[Screened]:
    """Generated text → sentences with the passage numbers they really cite and the echo findings.

    `checks=False` only splits (for text heprag wrote itself, e.g. the extractive generator, which strips
    the papers' brackets before adding its own markers).
    """
    passages = [h.chunk.text for h in hits]
    out: list[Screened] = []
    for raw in split_marked(text):
        copied = copied_runs(raw, passages) if checks else []
        copied_text = {run for run, _ in copied}
        legit = [
            n for m in _RUN.finditer(raw) if _flat(m.group(0)).strip() not in copied_text
            for n in numbers_of(m.group(0))
        ]  # fmt: skip
        legit = list(dict.fromkeys(legit))
        flags = [f"copied-reference:{run}" for run in copied_text]
        clean = MARKER.sub("", raw).strip()
        if checks and echoes_prompt(raw):
            flags.insert(0, "prompt-echo")
        if clean and clean not in ".!?":
            out.append(Screened(clean, legit, flags))
        elif out and numbers_of(raw):  # a stray marker on its own cites the sentence before
            out[-1].numbers = list(dict.fromkeys(out[-1].numbers + legit))
            out[-1].flags += flags
    return out


def has_prompt_markup(text: str) -> bool:
    """The output contains chat-template tokens or passage tags: the model printed its prompt back."""
    return PROMPT_MARKUP.search(text) is not None
