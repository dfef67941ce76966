"""Adding documents from the chat: uploaded files saved under `<index>/uploads/`, arXiv ids fetched."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path

from heprag.app.library import Library
from heprag.index.errors import HepragError
from heprag.ingest.report import IngestReport

UPLOAD_TYPES = ["pdf", "tex", "gz", "tgz", "tar", "zip", "log", "jsonl", "txt", "md"]
_UNSAFE = re.compile(r"[^A-Za-z0-9._+\-]")
_ARXIV_ID = re.compile(r"(?:arXiv:)?(\d{4}\.\d{4,5}(?:v\d+)?|[a-z\-]+(?:\.[A-Z]{2})?/\d{7}(?:v\d+)?)", re.I)
Progress = Callable[[float, str], object]  # the return value is ignored (st.progress returns one)


class ArxivUnavailableError(HepragError):
    """arXiv fetching is not installed in this build."""


def safe_name(name: str) -> str:
    """A file name without directories or odd characters (an upload can never escape its folder)."""
    base = _UNSAFE.sub("_", Path(name.replace("\\", "/")).name).lstrip(".")
    return base or "upload"


def save_uploads(files: Iterable[tuple[str, bytes]], folder: Path) -> list[Path]:
    """Write (name, content) pairs into `folder`; a name already taken by different bytes gets a suffix."""
    folder.mkdir(parents=True, exist_ok=True)
    saved: list[Path] = []
    for name, data in files:
        target = folder / safe_name(name)
        stem, suffix, n = target.stem, target.suffix, 1
        while target.exists() and target.read_bytes() != data:
            target = folder / f"{stem}-{n}{suffix}"
            n += 1
        target.write_bytes(data)
        saved.append(target)
    return saved


def parse_arxiv_ids(text: str) -> list[str]:
    """arXiv ids typed by a user ('2007.07830, arXiv:1207.7214v2 hep-ex/0102003'), deduplicated."""
    return list(dict.fromkeys(m.group(1) for m in _ARXIV_ID.finditer(text)))


def ingest_files(library: Library, paths: list[Path], progress: Progress | None = None) -> IngestReport:
    """Ingest files one by one (so progress is real); returns the merged report. The index is
    republished after each file, so the chat sees new documents without a restart."""
    total = IngestReport()
    for i, path in enumerate(paths):
        if progress:
            progress(i / max(len(paths), 1), f"Indexing {path.name} ({i + 1}/{len(paths)})")
        report = library.ingest([path])
        _merge(total, report)
    if progress:
        progress(1.0, "Done")
    return total


def fetch_and_ingest(
    library: Library, ids: list[str], folder: Path, progress: Progress | None = None
) -> IngestReport:
    """Fetch arXiv papers (with their PDFs) from the configured arXiv (settings `arxiv.*`) and index
    them; raises ArxivUnavailableError when the arXiv client is not part of this installation."""
    try:
        from heprag.ingest.sources.arxiv_client import fetch_arxiv
    except ImportError as exc:
        raise ArxivUnavailableError(
            f"arXiv fetching is unavailable ({exc}); download the PDFs and upload them instead"
        ) from exc
    if progress:
        progress(0.05, f"Fetching {len(ids)} paper(s) from arXiv")
    a = library.settings.arxiv
    docs = list(
        fetch_arxiv(
            ids=ids,
            full_text="pdf",
            download_dir=folder,
            max_results=len(ids),
            api_url=a.api_url,
            pdf_base_url=a.pdf_base_url,
            source_base_url=a.source_base_url,
            delay_seconds=a.delay_seconds,
        )
    )
    if progress:
        progress(0.5, f"Indexing {len(docs)} paper(s)")
    report = library.ingestor(show_progress=False).ingest_documents(docs)
    report.save(library.settings.index.dir)
    if progress:
        progress(1.0, "Done")
    return report


def _merge(total: IngestReport, report: IngestReport) -> None:
    total.files_seen += report.files_seen
    total.files_parsed += report.files_parsed
    for name in (
        "unsupported",
        "failed",
        "skipped",
        "added",
        "updated",
        "unchanged",
        "removed",
        "conflicts",
        "files",
    ):
        getattr(total, name).extend(getattr(report, name))
    total.chunks_written += report.chunks_written
    total.chunks_embedded += report.chunks_embedded


def report_summary(report: IngestReport) -> str:
    parts = [
        f"{len(report.added)} added",
        f"{len(report.updated)} updated",
        f"{len(report.unchanged)} unchanged",
    ]
    if report.failed:
        parts.append(f"{len(report.failed)} failed")
    if report.unsupported:
        parts.append(f"{len(report.unsupported)} unsupported")
    return ", ".join(parts) + f"; {report.chunks_written} passages written"
