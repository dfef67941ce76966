"""Support judges: the lexical judge's features and verdicts, and the LLM judge over a real HTTP endpoint."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from heprag.evals.calibration import Features, classification_metrics, fit, predict
from heprag.evals.judges import (
    JudgeError,
    LexicalJudge,
    LexicalParams,
    LLMJudge,
    load_prompt,
    numbers_present,
    parse_verdict,
    token_overlap,
)
from heprag.index.embedder import Embedder
from tests.app.openai_server import openai_server

PASSAGE = (
    "The observed significance of the H→μμ signal is 2.0 standard deviations. "
    "The analysis uses 139 fb⁻¹ of proton-proton collisions at 13 TeV recorded by ATLAS."
)


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder(device="cpu")


def test_token_overlap_counts_claim_content_words() -> None:
    assert token_overlap("ATLAS recorded collisions", PASSAGE) == 1.0
    assert token_overlap("CMS measured the top quark width", PASSAGE) == 0.0


def test_numbers_must_all_be_present() -> None:
    assert numbers_present("The significance is 2.0σ.", [PASSAGE])
    assert numbers_present("ATLAS used 139 fb-1 at 13 TeV.", [PASSAGE])
    assert not numbers_present("The significance is 3.0σ.", [PASSAGE])
    assert not numbers_present("It used 140 fb-1.", [PASSAGE])


def test_lexical_judge_supports_a_paraphrase_and_rejects_an_unrelated_or_wrong_number_claim(
    embedder: Embedder,
) -> None:
    judge = LexicalJudge(embedder, LexicalParams(alpha=0.3, threshold=0.55, check_numbers=True))
    good = judge.support(
        "ATLAS observed the H→μμ signal with a significance of 2.0 standard deviations.", [PASSAGE]
    )
    assert good.supported, good.reason
    assert not judge.support("The top quark mass is measured with lattice QCD.", [PASSAGE]).supported
    wrong = judge.support(
        "ATLAS observed the H→μμ signal with a significance of 3.0 standard deviations.", [PASSAGE]
    )
    assert not wrong.supported and "number" in wrong.reason
    assert not judge.support("Anything at all.", []).supported


def test_fit_finds_the_separating_threshold_and_metrics_are_exact() -> None:
    labels = np.array([True, True, False, False, False])
    f = Features(
        overlap=np.array([0.9, 0.7, 0.4, 0.2, 0.6], dtype=np.float32),
        cosine=np.zeros(5, dtype=np.float32),
        numbers_ok=np.array([True, True, True, True, False]),
        labels=labels,
    )
    params = fit(f, alphas=(1.0,))
    assert params.check_numbers  # the 0.6 negative is only excluded by its number mismatch
    assert 0.4 < params.threshold <= 0.7
    assert classification_metrics(predict(f, params), labels) == {
        "accuracy": 1.0, "precision": 1.0, "recall": 1.0, "f1": 1.0,
    }  # fmt: skip
    half = classification_metrics(np.array([True, False, True, False, False]), labels)
    assert half == pytest.approx({"accuracy": 0.6, "precision": 0.5, "recall": 0.5, "f1": 0.5})


def test_params_round_trip_and_bad_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "judge.json"
    LexicalParams(0.25, 0.6, False).save(path)
    assert LexicalParams.load(path) == LexicalParams(0.25, 0.6, False)
    path.write_text("[1, 2]")
    with pytest.raises(Exception, match="judge-calibration --save"):
        LexicalParams.load(path)


def test_parse_verdict_accepts_fenced_json_and_rejects_other_replies() -> None:
    assert parse_verdict('```json\n{"verdict": "Supported", "reason": "[1] says 2.0σ"}\n```') == (
        True, "[1] says 2.0σ",
    )  # fmt: skip
    with pytest.raises(JudgeError, match="without a JSON verdict"):
        parse_verdict("I think so")
    with pytest.raises(JudgeError, match="'supported' or 'unsupported'"):
        parse_verdict('{"verdict": "maybe"}')


def test_llm_judge_sends_the_versioned_prompt_at_temperature_zero() -> None:
    replies = [
        json.dumps({"verdict": "supported", "reason": "passage [1] states 2.0 standard deviations"}),
        json.dumps({"verdict": "unsupported", "reason": "no passage gives 3.0σ"}),
    ]
    with openai_server(replies) as chat:  # type: ignore[arg-type]
        judge = LLMJudge(chat.url, "judge-model", max_retries=0)
        yes = judge.support("The significance is 2.0σ.", [PASSAGE])
        no = judge.support("The significance is 3.0σ.", [PASSAGE])
    assert yes.supported and "2.0 standard deviations" in yes.reason
    assert not no.supported and no.judge == "llm:judge-model:support_v1"
    body = chat.requests[0]
    assert body["temperature"] == 0 and body["model"] == "judge-model"
    prompt = body["messages"][0]["content"]
    assert "The significance is 2.0σ." in prompt and f"[1] {PASSAGE}" in prompt
    assert prompt.startswith(load_prompt("support_v1").split("{claim}")[0])


def test_llm_judge_endpoint_failure_is_a_clear_error() -> None:
    with openai_server([(500, "overloaded")]) as chat:  # type: ignore[arg-type]
        judge = LLMJudge(chat.url, "m", max_retries=0)
        with pytest.raises(JudgeError, match="--judge lexical"):
            judge.support("x", ["y"])
