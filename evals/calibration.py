"""Fit and measure the lexical judge on SciFact rationales: its trustworthiness is measured, not claimed.

Pairs are (claim, abstract sentence): SUPPORT rationale sentences are positives, the other sentences of
the same abstracts negatives. Claims are split (seeded) into a fitting part and a held-out part; the
judge's `alpha`, `threshold` and `check_numbers` maximise F1 on the fitting part, and accuracy,
precision, recall and F1 are reported on the held-out part.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from heprag.evals.datasets import RationalePair, load_scifact_rationales
from heprag.evals.judges import LexicalParams, numbers_present, token_overlap
from heprag.index.embedder import Embedder

ALPHAS: tuple[float, ...] = tuple(float(a) for a in np.round(np.linspace(0.0, 1.0, 21), 2))
THRESHOLDS = np.round(np.linspace(0.0, 1.0, 201), 3)


@dataclass
class Features:
    overlap: np.ndarray
    cosine: np.ndarray
    numbers_ok: np.ndarray
    labels: np.ndarray

    def take(self, mask: np.ndarray) -> Features:
        return Features(self.overlap[mask], self.cosine[mask], self.numbers_ok[mask], self.labels[mask])


@dataclass
class CalibrationResult:
    params: LexicalParams
    held_out: dict[str, float]
    fitted_on: dict[str, float]
    counts: dict[str, int]
    ablations: dict[str, dict[str, float]] = field(default_factory=dict)


def classification_metrics(predicted: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Accuracy, precision, recall and F1 of boolean predictions (positive = supported)."""
    tp = float(np.sum(predicted & labels))
    fp = float(np.sum(predicted & ~labels))
    fn = float(np.sum(~predicted & labels))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    accuracy = float(np.mean(predicted == labels)) if len(labels) else 0.0
    return {"accuracy": accuracy, "precision": precision, "recall": recall, "f1": f1}


def features(pairs: Sequence[RationalePair], embedder: Embedder | None) -> Features:
    """Token overlap, cosine (0 without an embedder) and number agreement of each pair."""
    overlap = np.array([token_overlap(p.claim, p.sentence) for p in pairs], dtype=np.float32)
    numbers_ok = np.array([numbers_present(p.claim, [p.sentence]) for p in pairs], dtype=bool)
    cosine = np.zeros(len(pairs), dtype=np.float32)
    if embedder is not None and pairs:
        texts = list(dict.fromkeys([t for p in pairs for t in (p.claim, p.sentence)]))
        vectors = dict(zip(texts, embedder.embed_documents(texts), strict=True))
        cosine = np.array([float(vectors[p.claim] @ vectors[p.sentence]) for p in pairs], dtype=np.float32)
    labels = np.array([p.supports for p in pairs], dtype=bool)
    return Features(overlap, cosine, numbers_ok, labels)


def predict(f: Features, params: LexicalParams) -> np.ndarray:
    score = params.alpha * f.overlap + (1 - params.alpha) * f.cosine
    verdict = score >= params.threshold
    return verdict & f.numbers_ok if params.check_numbers else verdict


def fit(
    f: Features, alphas: Sequence[float] = ALPHAS, checks: Sequence[bool] = (True, False)
) -> LexicalParams:
    """The parameters with the best F1 on `f` (ties: the higher threshold, then the smaller alpha)."""
    best: tuple[float, float, float] = (-1.0, 0.0, 0.0)
    chosen = LexicalParams()
    labels = f.labels
    for check in checks:
        for alpha in alphas:
            score = alpha * f.overlap + (1 - alpha) * f.cosine
            above = score[None, :] >= THRESHOLDS[:, None]
            if check:
                above &= f.numbers_ok[None, :]
            tp = (above & labels).sum(axis=1)
            fp = (above & ~labels).sum(axis=1)
            fn = labels.sum() - tp
            f1 = np.where(tp > 0, 2 * tp / np.maximum(2 * tp + fp + fn, 1), 0.0)
            i = int(np.argmax(f1[::-1]))  # last maximum = highest threshold
            i = len(THRESHOLDS) - 1 - i
            key = (float(f1[i]), float(THRESHOLDS[i]), -float(alpha))
            if key > best:
                best = key
                chosen = LexicalParams(float(alpha), float(THRESHOLDS[i]), check)
    return chosen


def split_by_claim(pairs: Sequence[RationalePair], fit_share: float, seed: int) -> np.ndarray:
    """A boolean mask: True for pairs whose claim falls in the (seeded) fitting part."""
    claims = sorted({p.claim_id for p in pairs})
    random.Random(seed).shuffle(claims)
    fitting = set(claims[: int(len(claims) * fit_share)])
    return np.array([p.claim_id in fitting for p in pairs], dtype=bool)


def calibrate(
    embedder: Embedder | None, root: Path | None = None, fit_share: float = 0.6, seed: int = 13
) -> CalibrationResult:
    """Fit the lexical judge on part of the SciFact training claims and measure it on the rest."""
    pairs = load_scifact_rationales(root)
    f = features(pairs, embedder)
    mask = split_by_claim(pairs, fit_share, seed)
    train, test = f.take(mask), f.take(~mask)
    alphas: Sequence[float] = ALPHAS if embedder is not None else (1.0,)
    params = fit(train, alphas)
    ablations = {}
    for name, kwargs in {
        "overlap only": {"alphas": (1.0,)},
        "cosine only": {"alphas": (0.0,)},
        "no number check": {"checks": (False,)},
    }.items():
        if embedder is None and name == "cosine only":
            continue
        p = fit(train, **kwargs)  # type: ignore[arg-type]
        ablations[name] = {**classification_metrics(predict(test, p), test.labels), "threshold": p.threshold}
    counts = {
        "claims": len({p.claim_id for p in pairs}),
        "pairs": len(pairs),
        "fit_pairs": int(mask.sum()),
        "held_out_pairs": int((~mask).sum()),
        "held_out_positives": int(test.labels.sum()),
    }
    return CalibrationResult(
        params,
        classification_metrics(predict(test, params), test.labels),
        classification_metrics(predict(train, params), train.labels),
        counts,
        ablations,
    )
