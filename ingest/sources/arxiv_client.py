"""arXiv harvesting with the `arxiv` package: abstracts by default, full text from the PDF or the e-print.

`fetch_arxiv` runs the real `arxiv.Client` against any base URL (the API URL is the client's
`query_url_format`; the HTTP session is replaced by a polite one that paces every request,
retries 429/5xx with capped backoff honouring `Retry-After`, and turns an endpoint that stays
down into `ArxivUnavailableError`). Progress is journalled in `state_dir`, so an interrupted run
resumes at the next unseen result without fetching finished ids again. Documents carry
`extra["supersedes"]`: the older versions of the same paper that the index should replace.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import hashlib
import importlib
import io
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Literal

import arxiv
import requests

from heprag.index.errors import ConfigError, HepragError, LimitExceededError, ParseError
from heprag.index.types import Block, Document
from heprag.ingest.sources.base import ParseLimits, parser_for
from heprag.ingest.sources.ids import arxiv_links, find_collaboration, split_arxiv_id

log = logging.getLogger(__name__)

ARXIV_API_URL = "https://export.arxiv.org/api/query"
ARXIV_PDF_URL = "https://arxiv.org/pdf"
ARXIV_EPRINT_URL = "https://arxiv.org/e-print"
FullText = Literal["none", "pdf", "source"]


# --------------------------------------------------------------------------- polite HTTP (shared)


class SourceUnavailableError(HepragError):
    """A remote source (arXiv, INSPIRE) gave no usable answer after every retry."""


class ArxivUnavailableError(SourceUnavailableError):
    """The arXiv API or download endpoint is down, unreachable or keeps refusing requests."""


class ArxivQueryError(HepragError):
    """arXiv rejected the query (HTTP 4xx) or answered something that is not an arXiv feed."""


@dataclass(frozen=True)
class RetryPolicy:
    """How a network source retries 429/5xx answers and connection errors."""

    retries: int = 4
    backoff_seconds: float = 2.0
    max_wait_seconds: float = 60.0
    timeout_seconds: float = 30.0
    retry_statuses: frozenset[int] = frozenset({429, 500, 502, 503, 504})

    def wait(self, attempt: int, response: requests.Response | None) -> float:
        """Seconds to wait before retry `attempt` (0-based): `Retry-After` if given, else exponential."""
        header = response.headers.get("Retry-After") if response is not None else None
        wait = self.backoff_seconds * 2**attempt
        if header:
            try:
                wait = float(header)
            except ValueError:
                with contextlib.suppress(TypeError, ValueError):
                    wait = (parsedate_to_datetime(header) - dt.datetime.now(dt.UTC)).total_seconds()
        return min(max(wait, 0.0), self.max_wait_seconds)


def send_with_retries(
    send: Callable[[], requests.Response],
    url: str,
    policy: RetryPolicy,
    error: type[SourceUnavailableError] = SourceUnavailableError,
    sleep: Callable[[float], None] = time.sleep,
) -> requests.Response:
    """Call `send` until the answer is not retryable; raise `error` naming `url` when tries run out."""
    problem = ""
    for attempt in range(policy.retries + 1):
        response: requests.Response | None = None
        try:
            response = send()
        except (requests.ConnectionError, requests.Timeout) as exc:
            problem = f"{type(exc).__name__}: {exc}"
        else:
            if response.status_code not in policy.retry_statuses:
                return response
            problem = f"HTTP {response.status_code}"
        if attempt < policy.retries:
            wait = policy.wait(attempt, response)
            log.info("%s for %s; retry %d/%d in %.1f s", problem, url, attempt + 1, policy.retries, wait)
            sleep(wait)
    raise error(
        f"{url}: no usable answer after {policy.retries + 1} tries (last: {problem[:200]}). "
        "Check the network and the configured base URL, or retry later; a resumable run continues "
        "where it stopped."
    )


class PoliteSession(requests.Session):
    """A requests session that keeps `min_interval` seconds between requests and retries per `policy`."""

    def __init__(
        self,
        policy: RetryPolicy,
        min_interval: float,
        error: type[SourceUnavailableError] = SourceUnavailableError,
        sleep: Callable[[float], None] = time.sleep,
        user_agent: str = "heprag-ingest (arxiv.py, requests)",
    ) -> None:
        super().__init__()
        self.policy, self.min_interval, self.error, self.sleep = policy, min_interval, error, sleep
        self.headers["User-Agent"] = user_agent
        self._last = 0.0
        self._lock = threading.Lock()

    def _pace(self) -> None:
        with self._lock:
            wait = self._last + self.min_interval - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self._last = time.monotonic()

    def request(self, method: Any, url: Any, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.policy.timeout_seconds)

        def send() -> requests.Response:
            self._pace()
            return super(PoliteSession, self).request(method, url, *args, **kwargs)

        return send_with_retries(send, str(url), self.policy, self.error, self.sleep)


# --------------------------------------------------------------------------- resumable state


@dataclass
class _Journal:
    """Append-only JSONL journal of one search: every finished id and the result cursor."""

    path: Path | None
    cursor: int = 0
    done: set[str] = field(default_factory=set)

    @classmethod
    def open(cls, state_dir: Path | None, search_key: dict[str, Any], resume: bool) -> _Journal:
        if state_dir is None:
            return cls(None)
        state_dir.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256(json.dumps(search_key, sort_keys=True).encode()).hexdigest()[:16]
        path = state_dir / f"arxiv-{digest}.jsonl"
        journal = cls(path)
        if resume and path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line torn by a crash
                journal.cursor = max(journal.cursor, int(record.get("cursor", 0)))
                journal.done.update(str(i) for i in record.get("ids", []))
            log.info("resuming arXiv search at result %d (%d ids done)", journal.cursor, len(journal.done))
        else:
            path.write_text(json.dumps({"search": search_key}) + "\n", encoding="utf-8")
        return journal

    def mark(self, ids: list[str], cursor: int) -> None:
        self.done.update(ids)
        self.cursor = cursor
        if self.path is not None:
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps({"ids": ids, "cursor": cursor}) + "\n")


# --------------------------------------------------------------------------- fetching


def build_query(
    query: str | None = None,
    category: str | None = None,
    since: dt.date | str | None = None,
    until: dt.date | str | None = None,
) -> str:
    """An arXiv `search_query`: the query AND `cat:<category>` AND a `submittedDate` range."""
    parts = [f"({query})" if query and (category or since or until) else (query or "")]
    if category:
        parts.append(f"cat:{category}")
    if since or until:
        start = _as_date(since) or dt.date(1991, 1, 1)
        end = _as_date(until) or dt.date.today()
        parts.append(f"submittedDate:[{start:%Y%m%d}0000 TO {end:%Y%m%d}2359]")
    return " AND ".join(p for p in parts if p)


def _as_date(value: dt.date | str | None) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise ConfigError(f"date {value!r} is not YYYY-MM-DD (arXiv since/until)") from exc


def fetch_arxiv(
    query: str | None = None,
    ids: Sequence[str] | None = None,
    *,
    category: str | None = None,
    since: dt.date | str | None = None,
    until: dt.date | str | None = None,
    max_results: int | None = 100,
    full_text: FullText = "none",
    state_dir: Path | None = None,
    download_dir: Path | None = None,
    resume: bool = True,
    api_url: str = ARXIV_API_URL,
    pdf_base_url: str = ARXIV_PDF_URL,
    source_base_url: str = ARXIV_EPRINT_URL,
    delay_seconds: float = 3.0,
    page_size: int = 100,
    retry: RetryPolicy = RetryPolicy(),
    limits: ParseLimits = ParseLimits(),
) -> Iterator[Document]:
    """Yield arXiv papers as Documents: a search (`query`/`category`/`since`/`until`) or a list of `ids`.

    `full_text="pdf"` adds the parsed PDF; `"source"` the LaTeX e-print (via `heprag.ingest.sources.latex`,
    falling back to the PDF when that parser is missing or fails). With `state_dir`, progress survives
    an interruption and a re-run continues after the last finished result (`max_results` caps the
    search across resumed runs; `resume=False` starts over). A paper whose full text cannot be had is
    still yielded with its abstract and `extra["full_text"] = "unavailable: ..."`. `delay_seconds` is
    kept between all requests (arXiv asks for 3 s); `retry` governs 429/5xx and connection errors.
    """
    if full_text not in ("none", "pdf", "source"):
        raise ConfigError(f"full_text={full_text!r}; choose 'none', 'pdf' or 'source'")
    search_query = build_query(query, category, since, until)
    if not search_query and not ids:
        raise ConfigError("fetch_arxiv needs a query, a category, a date range or a list of ids")
    if delay_seconds < 3 and "arxiv.org" in api_url:
        log.warning("delay_seconds=%s is below the 3 s that arXiv's API terms ask for", delay_seconds)
    # One journal per search, and one shared by every id-list run: a done id is done whichever list named it.
    key = {"query": "" if ids else search_query, "ids": bool(ids), "full_text": full_text}
    journal = _Journal.open(state_dir, key, resume)
    id_list = [i.removeprefix("arXiv:") for i in ids or [] if i.removeprefix("arXiv:") not in journal.done]
    if ids and not id_list:
        log.info("all %d requested arXiv ids are already done", len(ids))
        return
    session = PoliteSession(retry, delay_seconds, ArxivUnavailableError)
    client = arxiv.Client(page_size=page_size, delay_seconds=0.0, num_retries=2)
    client.query_url_format = api_url.rstrip("?") + "?{}"  # the documented class attribute
    client._session = session  # arxiv 4.x has no session hook; ours paces and retries every request
    ordered = not ids  # a date-ordered search keeps offsets stable while new papers arrive
    search = arxiv.Search(
        query=search_query,
        id_list=id_list,
        max_results=max_results if not ids else len(id_list),
        sort_by=arxiv.SortCriterion.SubmittedDate if ordered else arxiv.SortCriterion.Relevance,
        sort_order=arxiv.SortOrder.Ascending if ordered else arxiv.SortOrder.Descending,
    )
    cursor = journal.cursor if ordered else 0
    downloads = download_dir or (state_dir / "files" if state_dir else None)
    fetcher = _FullText(session, full_text, pdf_base_url, source_base_url, downloads, limits)
    try:
        for result in client.results(search, offset=cursor):
            cursor += 1
            doc = result_document(result)
            if doc.doc_id.removeprefix("arXiv:") in journal.done:
                continue
            yield fetcher.add(doc)
            base, _ = split_arxiv_id(doc.doc_id)
            journal.mark([doc.doc_id.removeprefix("arXiv:"), base], cursor if ordered else 0)
    except arxiv.HTTPError as exc:
        raise ArxivQueryError(f"{exc.url}: arXiv answered HTTP {exc.status}; check the query syntax") from exc
    except arxiv.ArxivError as exc:
        raise ArxivUnavailableError(f"{exc.url}: {exc.message}; retry later (the run resumes)") from exc


def result_document(result: arxiv.Result) -> Document:
    """An abstract-only Document from one `arxiv.Result` (doc_id `arXiv:<id>v<N>`)."""
    short_id = result.get_short_id()
    base, version = split_arxiv_id(short_id)
    if version is None:
        version, short_id = 1, f"{base}v1"
    abstract = re.sub(r"\s+", " ", result.summary).strip()
    links = arxiv_links(base, version)
    if result.doi:
        links["doi"] = f"https://doi.org/{result.doi}"
    authors = [a.name for a in result.authors]
    extra: dict[str, str | int | float | bool | None] = {
        "arxiv_id": base,
        "version": version,
        "primary_category": result.primary_category,
        "updated": result.updated.date().isoformat() if result.updated else None,
        "supersedes": ",".join(f"{base}v{v}" for v in range(1, version)) or None,
    }
    for name in ("journal_ref", "doi", "comment"):
        if getattr(result, name):
            extra[name] = getattr(result, name)
    return Document(
        doc_id=f"arXiv:{short_id}",
        title=re.sub(r"\s+", " ", result.title).strip(),
        authors=authors,
        date=result.published.date() if result.published else None,
        source="arxiv",
        source_type="paper",
        collaboration=find_collaboration(" ".join([*authors[:5], result.comment or "", abstract])),
        categories=list(result.categories),
        links=links,
        blocks=[Block(text=abstract, section=["Abstract"], kind="abstract")] if abstract else [],
        extra=extra,
    )


@dataclass
class _FullText:
    """Downloads and parses the full text of papers, merging it into their abstract Documents."""

    session: requests.Session
    mode: FullText
    pdf_base_url: str
    source_base_url: str
    directory: Path | None
    limits: ParseLimits

    def add(self, doc: Document) -> Document:
        if self.mode == "none":
            return doc
        short_id = doc.doc_id.removeprefix("arXiv:")
        try:
            if self.mode == "source":
                parsed, problem = self._from_source(short_id)
                if parsed is not None:
                    return merge_full_text(doc, parsed, "latex")
                doc = doc.model_copy(update={"extra": {**doc.extra, "full_text_fallback": problem[:300]}})
            return merge_full_text(doc, self._from_pdf(short_id), "pdf")
        except (ParseError, LimitExceededError, _DownloadError) as exc:
            log.warning("%s: full text unavailable, keeping the abstract (%s)", doc.doc_id, exc)
            return doc.model_copy(update={"extra": {**doc.extra, "full_text": f"unavailable: {exc}"[:300]}})

    def _from_pdf(self, short_id: str) -> Document:
        from heprag.ingest.sources.pdf import parse_pdf

        path = self._download(f"{self.pdf_base_url.rstrip('/')}/{short_id}", short_id, "pdf")
        with path.open("rb") as handle:
            magic = handle.read(5)
        if not magic.startswith(b"%PDF"):
            path.unlink()  # not kept: the next run asks again
            raise _DownloadError(f"{path.name} is not a PDF (arXiv may still be generating it)")
        parsed = next(iter(parse_pdf(path, self.limits)), None)
        if parsed is None:
            raise ParseError(str(path), "the PDF parser returned no document")
        return parsed

    def _from_source(self, short_id: str) -> tuple[Document | None, str]:
        """The Document parsed from the e-print, or None and why the PDF is used instead."""
        try:  # imported lazily: the LaTeX parsers register themselves (the archive one is optional)
            importlib.import_module("heprag.ingest.sources.latex")
        except ImportError as exc:
            problem = f"no LaTeX parser (heprag.ingest.sources.latex: {exc}); used the PDF"
            log.info("%s: %s", short_id, problem)
            return None, problem
        with contextlib.suppress(ImportError):
            importlib.import_module("heprag.ingest.sources.archive")
        path = self._download(f"{self.source_base_url.rstrip('/')}/{short_id}", short_id, "e-print")
        parser = parser_for(path) if path.suffix != ".pdf" else None
        if parser is None or not parser.name.startswith("latex"):
            return None, f"no LaTeX parser for the e-print {path.name}; used the PDF"
        try:  # any failure of the (separately developed) LaTeX parser must not stop the batch
            parsed = next(iter(parser.parse(path, self.limits)), None)
        except Exception as exc:
            parsed, problem = None, f"LaTeX source not parsed ({type(exc).__name__}: {exc}); used the PDF"
        else:
            problem = "" if parsed else "the LaTeX parser found no document; used the PDF"
        if problem:
            log.warning("%s: %s", short_id, problem)
        return parsed, problem

    def _download(self, url: str, short_id: str, kind: Literal["pdf", "e-print"]) -> Path:
        """The file at `url`, saved once as `<directory>/<kind>/<id><suffix>` (reused by later runs)."""
        if self.directory is None:
            raise ConfigError("full-text download needs state_dir or download_dir")
        folder = self.directory / kind
        folder.mkdir(parents=True, exist_ok=True)
        stem = short_id.replace("/", "_")
        for existing in folder.glob(f"{stem}.*"):
            if existing.stat().st_size and not existing.name.endswith(".part"):
                return existing  # downloaded by an earlier (interrupted) run
        response = self.session.get(url, stream=True)
        if response.status_code != 200:
            raise _DownloadError(f"{url} answered HTTP {response.status_code}")
        data = io.BytesIO()
        for chunk in response.iter_content(1 << 16):
            data.write(chunk)
            if data.tell() > self.limits.max_file_bytes:
                raise LimitExceededError(
                    f"{url}: larger than ingest.max_file_bytes={self.limits.max_file_bytes:,}"
                )
        content = data.getvalue()
        path = folder / f"{stem}{'.pdf' if kind == 'pdf' else _eprint_suffix(content)}"
        part = path.with_name(path.name + ".part")
        part.write_bytes(content)
        part.replace(path)
        return path


class _DownloadError(HepragError):
    """One paper's file could not be downloaded (the batch goes on)."""


def _eprint_suffix(content: bytes) -> str:
    """File suffix of an arXiv e-print: a gzipped tarball, a gzipped single .tex, or a PDF."""
    if content.startswith(b"%PDF"):
        return ".pdf"
    if content.startswith(b"\x1f\x8b"):
        try:
            head = gzip.GzipFile(fileobj=io.BytesIO(content)).read(262)
        except (OSError, EOFError):
            return ".gz"
        return ".tar.gz" if head[257:262] == b"ustar" else ".gz"  # one gzipped .tex
    return ".tar" if content[257:262] == b"ustar" else ".tex"


def merge_full_text(doc: Document, parsed: Document, kind: str) -> Document:
    """The API Document with the parsed body appended (its abstract replaced by the API's clean one)."""
    body = [b for b in parsed.blocks if not (b.section and b.section[0].lower().startswith("abstract"))]
    extra = {**parsed.extra, **doc.extra, "full_text": kind}
    return Document(
        **doc.model_dump(exclude={"blocks", "references", "extra", "path", "collaboration", "content_hash"}),
        collaboration=doc.collaboration or parsed.collaboration,
        blocks=[*doc.blocks, *body],
        references=parsed.references,
        extra=extra,
        path=parsed.path,
    )
