"""Writing a report to disk: markdown + timeline PNG (+ HTML), and the run timings kept for re-runs."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

from heprag.app.library import Library
from heprag.app.summaries.builder import Progress, build_report
from heprag.app.summaries.cache import SummaryCache, cache_key
from heprag.app.summaries.model import Report, TopicRequest
from heprag.app.summaries.report import render_html, render_markdown
from heprag.index.errors import ConfigError
from heprag.index.filters import SearchFilters
from heprag.index.store import current_generation


@dataclass
class Written:
    report: Report
    markdown: Path
    html: Path | None
    seconds: float
    previous_seconds: float | None
    first_seconds: float | None = None


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "report"


def write_report(
    library: Library,
    request: TopicRequest,
    out: Path,
    html: Path | None = None,
    progress: Progress | None = None,
) -> Written:
    """Build the report for `request` and write `out` (markdown), its PNG beside it and `html`."""
    t0 = time.perf_counter()
    png = out.with_name(out.stem + ".timeline.png")
    report = build_report(library, request, png, progress)
    out.parent.mkdir(parents=True, exist_ok=True)
    image = Path(report.timeline_png).name if report.timeline_png else None
    out.write_text(render_markdown(report, image), encoding="utf-8")
    out.with_name(out.stem + ".json").write_text(report.model_dump_json(indent=1), encoding="utf-8")
    if html is not None:
        html.parent.mkdir(parents=True, exist_ok=True)
        html.write_text(render_html(report), encoding="utf-8")
    seconds = time.perf_counter() - t0
    runs = SummaryCache.for_index(library.settings.index.dir)
    generation = current_generation(library.settings.index.dir)
    what = request.model_dump(mode="json", exclude={"name"})  # --batch names the file, not the report
    key = cache_key("run/v1", what, generation.name if generation else "")
    previous = runs.get("runs", key)
    runs.put(
        "runs", key, {"seconds": seconds, "first_seconds": (previous or {}).get("first_seconds", seconds)}
    )
    first = (previous or {}).get("first_seconds")
    return Written(report, out, html, seconds, (previous or {}).get("seconds"), first)


def parse_filters(items: list[str]) -> SearchFilters:
    """`--filter collaboration=ATLAS --filter category=hep-ex --filter year<=2019` → SearchFilters."""
    data: dict[str, object] = {}
    fields = {"collaboration": "collaborations", "category": "categories", "source_type": "source_types",
              "doc": "doc_ids", "doc_id": "doc_ids"}  # fmt: skip
    for item in items:
        m = re.fullmatch(r"\s*(\w+)\s*(<=|>=|=)\s*(.+?)\s*", item)
        if not m:
            raise ConfigError(f"--filter {item!r}: write key=value, e.g. collaboration=ATLAS or year>=2018")
        key, op, value = m.groups()
        if key == "year":
            if op in {"=", ">="}:
                data["year_min"] = int(value)
            if op in {"=", "<="}:
                data["year_max"] = int(value)
        elif key in fields and op == "=":
            values = data.setdefault(fields[key], [])
            assert isinstance(values, list)
            values.extend(v.strip() for v in value.split(","))
        else:
            raise ConfigError(
                f"--filter {item!r}: unknown key {key!r}; "
                "use year, collaboration, category, source_type or doc"
            )
    try:
        return SearchFilters.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"--filter {items}: {exc}") from exc


def read_batch(path: Path) -> list[TopicRequest]:
    """topics.yaml: a list of topics, each a string or {topic, name, since, filter: [...], papers: [...]}."""
    if not path.exists():
        raise ConfigError(f"batch file {path} does not exist")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from exc
    if isinstance(data, dict):
        data = data.get("topics")
    if not isinstance(data, list) or not data:
        raise ConfigError(f"{path}: expected a list of topics (or `topics:` with a list)")
    requests: list[TopicRequest] = []
    for i, entry in enumerate(data, start=1):
        entry = {"topic": entry} if isinstance(entry, str) else entry
        if not isinstance(entry, dict) or not str(entry.get("topic", "")).strip():
            raise ConfigError(f"{path}: topic #{i} has no `topic:` text")
        unknown = set(entry) - {"topic", "name", "since", "filter", "papers"}
        if unknown:
            raise ConfigError(f"{path}: topic #{i} has unknown keys {sorted(unknown)}")
        filters = entry.get("filter") or []
        requests.append(
            TopicRequest(
                topic=str(entry["topic"]).strip(),
                name=slug(str(entry.get("name") or entry["topic"])),
                since=entry.get("since"),
                filters=parse_filters([filters] if isinstance(filters, str) else filters),
                papers=[str(p) for p in entry.get("papers") or []],
            )
        )
    return requests
