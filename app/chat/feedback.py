"""👍/👎 feedback with an optional comment, appended to `<index>/feedback.jsonl` for the evals."""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path
from typing import Any, Literal

from heprag.app.answer import Answer

Vote = Literal["up", "down"]
_LOCK = threading.Lock()


class FeedbackStore:
    """Append-only JSONL file: one object per vote (question, answer, citations, vote, comment, time)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def for_index(cls, index_dir: Path) -> FeedbackStore:
        return cls(index_dir / "feedback.jsonl")

    def add(self, answer: Answer, vote: Vote, comment: str = "") -> dict[str, Any]:
        if vote not in ("up", "down"):
            raise ValueError(f"vote must be 'up' or 'down', not {vote!r}")
        record = {
            "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "question": answer.question,
            "answer": answer.answer,
            "refused": answer.refused,
            "backend": answer.backend,
            "citations": [
                c.model_dump(include={"n", "chunk_id", "doc_id", "label", "page"}) for c in answer.citations
            ],
            "vote": vote,
            "comment": comment.strip(),
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with _LOCK, self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
        return record

    def records(self) -> list[dict[str, Any]]:
        """All votes so far; a corrupt line (e.g. a crash mid-write) is skipped."""
        if not self.path.exists():
            return []
        out = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return out
