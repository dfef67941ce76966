"""Maximal marginal relevance (Carbonell & Goldstein 1998): relevant hits that do not repeat each other."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def mmr(
    relevance: np.ndarray,
    vectors: np.ndarray,
    count: int,
    lam: float,
    groups: Sequence[str] | None = None,
    per_group_cap: int | None = None,
) -> list[int]:
    """Indices of `count` items, each maximising lam·relevance − (1−lam)·max cosine to those chosen.

    `relevance` is min-max normalised to [0, 1] first, so any score scale (RRF, cross-encoder logits)
    meets the cosine of unit `vectors` on equal terms. lam = 1 keeps the relevance order (ties: the earlier
    item); smaller values favour items unlike the chosen ones. `groups` + `per_group_cap` (e.g. documents)
    is a hard limit on top: an item whose group is full is never chosen.
    """
    n = len(relevance)
    rel = np.asarray(relevance, dtype=np.float64)
    spread = float(rel.max() - rel.min()) if n else 0.0
    rel = (rel - rel.min()) / spread if spread > 0 else np.ones(n)
    unit = np.asarray(vectors, dtype=np.float32)
    codes = np.unique(np.asarray(groups), return_inverse=True)[1] if groups is not None and n else None
    redundancy = np.zeros(n)  # max cosine to the chosen items (none chosen yet: no penalty)
    open_ = np.ones(n, dtype=bool)
    chosen: list[int] = []
    while len(chosen) < count and open_.any():
        gain = np.where(open_, lam * rel - (1 - lam) * redundancy, -np.inf)
        best = int(np.argmax(gain))
        chosen.append(best)
        open_[best] = False
        if codes is not None and per_group_cap:
            same = codes == codes[best]
            if int(same[chosen].sum()) >= per_group_cap:
                open_ &= ~same
        sims = unit @ unit[best]  # one column per pick: a full n×n product costs more than the picks
        redundancy = sims if len(chosen) == 1 else np.maximum(redundancy, sims)
    return chosen
