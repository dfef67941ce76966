"""Support judges: does a set of passages support a claim (an answer sentence, a reference answer)?

- `LexicalJudge` (offline): the best sentence of the passages by `alpha * token overlap + (1 - alpha) *
  embedding cosine`, compared with a threshold; claims whose numbers are missing from the passages are
  not supported (when `check_numbers`). `alpha`, `threshold` and `check_numbers` are fitted on SciFact
  rationales by `heprag eval judge-calibration` (see `evals/calibration.py`).
- `LLMJudge`: any OpenAI-compatible endpoint, a versioned prompt from `evals/prompts/`, temperature 0,
  a JSON verdict with its reason.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from heprag.app.grounding import normalise, ungrounded_numbers
from heprag.index.embedder import Embedder
from heprag.index.errors import ConfigError, HepragError
from heprag.index.keyword import tokenize
from heprag.ingest.sentences import sentences

log = logging.getLogger(__name__)

PROMPT_VERSION = "support_v1"
_BARE_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?![\d])")


@dataclass(frozen=True)
class Verdict:
    supported: bool
    score: float
    reason: str
    judge: str


class Judge(Protocol):
    name: str

    def support(self, claim: str, passages: Sequence[str]) -> Verdict: ...


@dataclass(frozen=True)
class LexicalParams:
    """Defaults fitted by `heprag eval judge-calibration` on SciFact training rationales (2026-11-22).

    SciFact claims rarely hinge on a number, so the fit leaves the number check off; answer evals measure
    numbers separately (`number_grounding`). Turn it on with a parameter file for number-heavy claims.
    """

    alpha: float = 0.55
    threshold: float = 0.415
    check_numbers: bool = False

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2))

    @classmethod
    def load(cls, path: Path) -> LexicalParams:
        try:
            return cls(**json.loads(Path(path).read_text()))
        except (OSError, ValueError, TypeError) as exc:
            raise ConfigError(
                f"{path} is not a judge parameter file ({exc}); write one with "
                "`heprag eval judge-calibration --save PATH`"
            ) from exc


def token_overlap(claim: str, sentence: str) -> float:
    """Share of the claim's content tokens (stemmed, stopwords dropped) found in the sentence."""
    wanted = set(tokenize(claim))
    return len(wanted & set(tokenize(sentence))) / len(wanted) if wanted else 0.0


def numbers_present(claim: str, passages: Sequence[str]) -> bool:
    """Every quantity (with unit, via grounding) and every bare number of the claim occurs in the passages."""
    if ungrounded_numbers(claim, list(passages)):
        return False
    text = " ".join(normalise(p) for p in passages)
    have = {float(n) for n in _BARE_NUMBER.findall(text)}
    return all(float(n) in have for n in _BARE_NUMBER.findall(normalise(claim)))


class LexicalJudge:
    """Offline support judge from token overlap, number matching and embedding similarity."""

    name = "lexical"

    def __init__(self, embedder: Embedder | None, params: LexicalParams = LexicalParams()) -> None:
        self.embedder = embedder
        self.params = params if embedder is not None else LexicalParams(1.0, params.threshold, True)

    def units(self, passages: Sequence[str]) -> list[str]:
        """The sentences of the passages (the grain at which the judge was calibrated)."""
        return [s for p in passages for s in (sentences(p) or [p]) if s.strip()]

    def scores(self, claim: str, units: Sequence[str]) -> np.ndarray:
        """Combined score of the claim against each unit."""
        if not units:
            return np.zeros(0, dtype=np.float32)
        overlap = np.array([token_overlap(claim, u) for u in units], dtype=np.float32)
        if self.embedder is None or self.params.alpha >= 1.0:
            return overlap
        vecs = self.embedder.embed_documents([claim, *units])
        cosine = vecs[1:] @ vecs[0]
        return self.params.alpha * overlap + (1 - self.params.alpha) * cosine

    def support(self, claim: str, passages: Sequence[str]) -> Verdict:
        units = self.units(passages)
        scores = self.scores(claim, units)
        if not len(scores):
            return Verdict(False, 0.0, "no passage text to support the claim", self.name)
        best = int(np.argmax(scores))
        score = float(scores[best])
        if self.params.check_numbers and not numbers_present(claim, passages):
            return Verdict(False, score, "a number of the claim is absent from the passages", self.name)
        ok = score >= self.params.threshold
        verb = "≥" if ok else "<"
        reason = f"best sentence scores {score:.2f} {verb} {self.params.threshold:.2f}: {units[best][:160]!r}"
        return Verdict(ok, score, reason, self.name)


def load_prompt(name: str) -> str:
    """A versioned prompt template from `heprag/evals/prompts/<name>.txt`."""
    path = resources.files("heprag.evals") / "prompts" / f"{name}.txt"
    if not path.is_file():
        raise ConfigError(f"prompt {name!r} not found in heprag/evals/prompts/; reinstall heprag")
    return path.read_text(encoding="utf-8")


class JudgeError(HepragError):
    """The LLM judge's endpoint failed or answered something that is not a verdict."""


def parse_verdict(content: str) -> tuple[bool, str]:
    """`{"verdict": "supported"|"unsupported", "reason": ...}` from a model reply (code fences allowed)."""
    match = re.search(r"\{.*\}", content, re.DOTALL)
    if not match:
        raise JudgeError(f"the judge model replied without a JSON verdict: {content[:200]!r}")
    try:
        data: dict[str, Any] = json.loads(match.group())
    except json.JSONDecodeError as exc:
        raise JudgeError(f"the judge model's verdict is not valid JSON: {content[:200]!r}") from exc
    verdict = str(data.get("verdict", "")).strip().lower()
    if verdict not in {"supported", "unsupported"}:
        raise JudgeError(f"verdict must be 'supported' or 'unsupported', got {verdict!r}")
    return verdict == "supported", str(data.get("reason", ""))


class LLMJudge:
    """Asks an OpenAI-compatible chat endpoint, at temperature 0, whether the passages support a claim."""

    name = "llm"

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str = "",
        timeout_s: float = 60.0,
        max_retries: int = 2,
        prompt: str = PROMPT_VERSION,
    ) -> None:
        try:
            from openai import OpenAI
        except ImportError as exc:
            raise ConfigError("the llm judge needs `pip install heprag[llm]` (the openai package)") from exc
        self.client = OpenAI(
            base_url=base_url, api_key=api_key or "not-needed", timeout=timeout_s, max_retries=max_retries
        )
        self.model = model
        self.prompt_name = prompt
        self.template = load_prompt(prompt)

    def support(self, claim: str, passages: Sequence[str]) -> Verdict:
        numbered = "\n\n".join(f"[{i}] {p}" for i, p in enumerate(passages, 1)) or "(no passages)"
        user = self.template.replace("{claim}", claim).replace("{passages}", numbered)
        try:
            reply = self.client.chat.completions.create(
                model=self.model, temperature=0, messages=[{"role": "user", "content": user}]
            )
        except Exception as exc:
            raise JudgeError(
                f"the judge endpoint failed ({exc}); check llm.base_url / llm.model or use --judge lexical"
            ) from exc
        supported, reason = parse_verdict(reply.choices[0].message.content or "")
        return Verdict(supported, 1.0 if supported else 0.0, reason, f"llm:{self.model}:{self.prompt_name}")
