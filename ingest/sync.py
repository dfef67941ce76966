"""Keeping an index current: incremental OAI-PMH harvests and INSPIRE literature dumps.

`Syncer.harvest` runs ListRecords from the date the previous complete harvest started (OAI-PMH's
advice: the `responseDate` of its first request, so nothing changed during it is missed), follows
resumption tokens, and commits every `batch_records` records through the normal ingest pipeline
(chunk, embed with the content-hash cache, publish a generation); deleted records are removed from the
index. After each commit the next page's token is saved (`heprag.ingest.sync_state`), so a harvest
killed at any point resumes from the last committed page; a record indexed twice is just "unchanged".
`Syncer.ingest_dump` streams an INSPIRE JSON-lines dump the same way, resuming at the last committed
line.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from heprag.index.errors import HepragError
from heprag.index.maintenance import delete_documents
from heprag.index.types import Document, content_hash
from heprag.ingest.pipeline import Ingestor, current_state
from heprag.ingest.report import FileFailure
from heprag.ingest.sources.inspire import InspireClient
from heprag.ingest.sources.inspire_dump import read_dump
from heprag.ingest.sources.oai_formats import FORMATS, DeletedInMetadata, NotLiterature, OaiFormat
from heprag.ingest.sources.oaipmh import (
    Granularity,
    OaiClient,
    OaiError,
    OaiPage,
    OaiRecord,
    format_datestamp,
)
from heprag.ingest.sync_state import HarvestState, SyncReport

log = logging.getLogger(__name__)
VERSIONED = re.compile(r"^(?P<base>arXiv:.+?)v\d+$")
VOLATILE_EXTRA = {"oai_datestamp", "updated"}


def metadata_hash(doc: Document) -> str:
    """A content hash that also covers the metadata (authors, journal, DOI...): an INSPIRE record whose
    text is the same but whose publication info changed is an update, not "unchanged"."""
    meta = {
        "authors": doc.authors,
        "collaboration": doc.collaboration,
        "categories": doc.categories,
        "links": doc.links,
        "references": [r.model_dump() for r in doc.references],
        "extra": {k: v for k, v in doc.extra.items() if k not in VOLATILE_EXTRA},
    }
    return content_hash(doc.fingerprint() + "\n" + json.dumps(meta, sort_keys=True, default=str))


@dataclass
class _Batch:
    """Upserts and deletions not yet in the index (a later entry for the same id wins)."""

    docs: dict[str, Document] = field(default_factory=dict)
    deletes: set[str] = field(default_factory=set)

    def add(self, doc: Document) -> None:
        self.deletes.discard(doc.doc_id)
        self.docs[doc.doc_id] = doc

    def delete(self, doc_id: str) -> None:
        self.docs.pop(doc_id, None)
        self.deletes.add(doc_id)

    def __len__(self) -> int:
        return len(self.docs) + len(self.deletes)


def _progress(enabled: bool, description: str) -> Any:
    if not enabled:
        return nullcontext(None)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    return Progress(*columns, transient=False)


class Syncer:
    """Brings an index up to date from a remote repository or a dump, through `ingestor`."""

    def __init__(
        self,
        ingestor: Ingestor,
        batch_records: int = 500,
        show_progress: bool = True,
        enrich: InspireClient | None = None,
    ) -> None:
        """A commit (one published generation) every `batch_records` records; `enrich` adds INSPIRE's
        metadata (collaboration, citations, texkey, journal) to harvested arXiv records."""
        ingestor.show_progress = False  # one harvest bar instead of a parse/embed bar per batch
        self.ingestor, self.index_dir = ingestor, ingestor.index_dir
        self.batch_records = max(1, batch_records)
        self.show_progress = show_progress
        self.enrich = enrich

    # -- OAI-PMH -------------------------------------------------------------------------------
    def harvest(
        self,
        client: OaiClient,
        format_name: str = "marcxml",
        set_spec: str | None = None,
        from_: str | None = None,
        until: str | None = None,
        restart: bool = False,
    ) -> SyncReport:
        """Harvest what changed since the last complete harvest (or since `from_`), resuming a killed one.

        `restart` drops the saved resumption token; an explicit `from_` or `until` starts a new list too.
        """
        fmt = _format(format_name)
        target = f"{client.base_url}|{fmt.prefix}|{set_spec or ''}"
        state = HarvestState.load(self.index_dir, target)
        report = SyncReport(target=target)
        started = time.perf_counter()
        requests_before, embedded_before = client.requests, self.ingestor.embedder.embedded_count
        if state.granularity is None:
            state.granularity = client.identify().get("granularity") or "YYYY-MM-DD"
        granularity: Granularity = "YYYY-MM-DD" if len(state.granularity) <= 10 else "YYYY-MM-DDThh:mm:ssZ"
        token = None
        if state.token and not (restart or from_ or until):
            token, report.resumed = state.token, True
            log.info("resuming the harvest of %s after %d records", target, state.position)
        else:
            since = from_ or state.last_harvest
            state.from_ = format_datestamp(since, granularity) if since else None
            state.until = format_datestamp(until, granularity, end_of_day=True) if until else None
            state.started, state.token, state.position = None, None, 0
        report.from_, report.until = state.from_, state.until
        batch, pending = _Batch(), 0
        with _progress(self.show_progress, "Harvesting") as bar:
            task = bar.add_task("Harvesting", total=None, completed=state.position) if bar else None
            for page in self._pages(client, fmt, set_spec, state, token):
                state.started = state.started or page.response_date
                for record in page.records:
                    self._take(fmt, record, batch, report)
                state.position += len(page.records)
                pending += len(page.records)
                if pending >= self.batch_records or page.token is None:
                    self._commit(batch, report)
                    pending = 0
                    state.token = page.token
                    state.save(self.index_dir)
                if bar:
                    total = page.complete_list_size
                    bar.update(task, completed=state.position, total=max(total or 0, state.position) or None)
        state.finish(state.until or state.started)
        state.save(self.index_dir)
        report.requests = client.requests - requests_before
        report.chunks_embedded = self.ingestor.embedder.embedded_count - embedded_before
        report.seconds = round(time.perf_counter() - started, 3)
        report.save(self.index_dir)
        return report

    def _pages(
        self, client: OaiClient, fmt: OaiFormat, set_spec: str | None, state: HarvestState, token: str | None
    ) -> Iterator[OaiPage]:
        """The pages of the list; an expired resumption token restarts it once from the same `from`."""
        try:
            yield from client.pages(fmt.prefix, set_spec, state.from_, state.until, token)
        except OaiError as exc:
            if exc.code != "badResumptionToken":
                raise
            log.warning(
                "%s; restarting the list from %s (indexed records come back unchanged)", exc, state.from_
            )
            state.token, state.position = None, 0
            yield from client.pages(fmt.prefix, set_spec, state.from_, state.until, None)

    def _take(self, fmt: OaiFormat, record: OaiRecord, batch: _Batch, report: SyncReport) -> None:
        report.records += 1
        if record.deleted:
            batch.delete(fmt.deleted_doc_id(record.identifier))
            return
        try:
            doc = fmt.convert(record)
        except DeletedInMetadata:
            batch.delete(fmt.deleted_doc_id(record.identifier))
            return
        except NotLiterature:
            report.skipped.append(record.identifier)
            return
        except Exception as exc:  # one bad record never stops a harvest
            reason = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
            log.warning("%s: record not converted (%s)", record.identifier, reason)
            report.failed.append(FileFailure(path=record.identifier, reason=reason))
            return
        if doc is not None:
            self._add(doc, batch)

    def _add(self, doc: Document, batch: _Batch) -> None:
        if self.enrich is not None and doc.doc_id.startswith("arXiv:"):
            doc = self.enrich.enrich(doc)
        doc.content_hash = metadata_hash(doc)
        batch.add(doc)

    # -- INSPIRE dump --------------------------------------------------------------------------
    def ingest_dump(self, path: Path, restart: bool = False) -> SyncReport:
        """Stream an INSPIRE literature dump (JSONL, optionally gzipped) into the index, resumably."""
        if not path.is_file():
            raise HepragError(
                f"{path}: no such dump file (INSPIRE literature JSON lines, .jsonl or .jsonl.gz)"
            )
        target = f"dump:{path.resolve()}"
        state = HarvestState.load(self.index_dir, target)
        stat = path.stat()
        signature = f"{stat.st_size}:{stat.st_mtime_ns}"
        report = SyncReport(target=target)
        started, embedded_before = time.perf_counter(), self.ingestor.embedder.embedded_count
        if restart or state.dump_signature != signature:
            state.position, state.dump_signature = 0, signature
        elif state.position:
            report.resumed = True
            log.info("resuming %s after line %d", path, state.position)
        batch, pending = _Batch(), 0
        with _progress(self.show_progress, "Reading dump") as bar:
            task = bar.add_task("Reading dump", total=None, completed=state.position) if bar else None
            for entry in read_dump(path, skip_lines=state.position):
                report.records += 1
                if entry.deleted:
                    batch.delete(entry.deleted)
                elif entry.document is not None:
                    self._add(entry.document, batch)
                elif entry.not_literature:
                    report.skipped.append(f"{path.name}:{entry.line}")
                else:
                    report.failed.append(FileFailure(path=f"{path}:{entry.line}", reason=entry.problem or ""))
                pending += 1
                if pending >= self.batch_records:
                    self._commit(batch, report)
                    pending = 0
                    state.position = entry.line
                    state.save(self.index_dir)
                if bar:
                    bar.update(task, completed=entry.line)
        self._commit(batch, report)
        state.finish(None)
        state.save(self.index_dir)
        report.chunks_embedded = self.ingestor.embedder.embedded_count - embedded_before
        report.seconds = round(time.perf_counter() - started, 3)
        report.save(self.index_dir)
        return report

    # -- committing ----------------------------------------------------------------------------
    def _commit(self, batch: _Batch, report: SyncReport) -> None:
        """Index the batch's documents and remove its deleted ones (each step publishes atomically)."""
        if batch.docs:
            done = self.ingestor.ingest_documents(list(batch.docs.values()))
            replaced = {VERSIONED.sub(r"\g<base>", d) for d in done.removed}
            report.new += [d for d in done.added if VERSIONED.sub(r"\g<base>", d) not in replaced]
            report.updated += done.updated + [
                d for d in done.added if VERSIONED.sub(r"\g<base>", d) in replaced
            ]
            report.unchanged += done.unchanged
            report.skipped += [f"{s.path}: {s.reason}" for s in done.skipped]  # e.g. a record with no text
            report.superseded += done.removed
            report.chunks_written += done.chunks_written
        if batch.deletes:
            present = current_state(self.index_dir)
            targets = [
                d for d in present if d in batch.deletes or VERSIONED.sub(r"\g<base>", d) in batch.deletes
            ]
            if targets:
                deleted, _ = delete_documents(self.index_dir, targets)
                report.deleted += deleted
        batch.docs.clear()
        batch.deletes.clear()


def _format(name: str) -> OaiFormat:
    try:
        return FORMATS[name.lower()]
    except KeyError:
        raise HepragError(f"unknown OAI-PMH format {name!r}; choose one of {', '.join(FORMATS)}") from None
