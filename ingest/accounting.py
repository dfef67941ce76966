"""Accounting for every input file: what each one became once the run is published."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from heprag.ingest.merge import Placed
from heprag.ingest.report import FileOutcome, FileStatus, IngestReport

MAX_IDS = 50  # a JSONL file of 10^5 records lists its first documents; `counts` has them all


def account_files(report: IngestReport, order: list[str], placed: list[Placed]) -> None:
    """Fill `report.files`, one entry per absolute path of `order` (discovery order), from the skips,
    the failures and where each parsed representation went."""
    status_of: dict[str, FileStatus] = {}
    for name in ("unchanged", "updated", "added"):  # a document both unchanged and added was added
        status_of |= dict.fromkeys(getattr(report, name), name)
    by_path: dict[str, list[tuple[FileStatus, str, str | None]]] = {}
    for p in placed:
        status = status_of.get(p.doc_id, "unchanged") if p.placement == "text" else p.placement
        by_path.setdefault(p.rep.source.abs_path, []).append((status, p.doc_id, p.reason))
    reasons: dict[str, tuple[FileStatus, str]] = {
        str(Path(f.path).resolve()): ("failed", f.reason) for f in report.failed
    }
    reasons |= {str(Path(f.path).resolve()): ("skipped", f.reason) for f in report.skipped}
    outcomes = []
    for path in order:
        if path in reasons:
            outcomes.append(FileOutcome(path=path, status=reasons[path][0], reason=reasons[path][1]))
            continue
        entries = by_path.get(path, [])
        if not entries:
            outcomes.append(FileOutcome(path=path, status="skipped", reason="no document in it"))
            continue
        counts = Counter(s for s, _, _ in entries)
        top = counts.most_common(1)[0][0]
        ids = list(dict.fromkeys(d for _, d, _ in entries))[:MAX_IDS]
        reason = next((r for s, _, r in entries if s == top and r), None)
        outcomes.append(
            FileOutcome(
                path=path,
                status=top,
                doc_ids=ids,
                reason=reason,
                counts=dict(counts) if len(entries) > 1 else {},
            )
        )
    report.files = outcomes
