"""`heprag ingest --ray`: the settings-configured Ingestor's pieces, run by the Ray Data pipeline."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from heprag.app.library import Library
from heprag.ingest.report import IngestReport


def ingest_with_ray(
    library: Library, paths: Iterable[str | Path], address: str | None = None, show_progress: bool = False
) -> IngestReport:
    """Ingest `paths` on a Ray cluster into the library's index; same report (saved) as `Library.ingest`."""
    from heprag.ingest.distributed import RayIngestor, RayOptions

    settings = library.settings
    single = library.ingestor(show_progress)  # the same embedder, chunking, limits and FAISS choice
    d = settings.distributed
    options = RayOptions(
        address=address,
        workers=d.workers,
        embed_batch_rows=d.embed_batch_rows,
        stream_above=d.stream_above,
        work_dir=d.work_dir,
        keep_shards=d.keep_shards,
    )
    ray_ingestor = RayIngestor(
        single.index_dir,
        single.embedder,
        single.chunking,
        single.limits,
        single.faiss_kind,
        options,
        show_progress,
    )
    report = ray_ingestor.ingest_paths(
        [Path(p) for p in paths], settings.ingest.include, settings.ingest.exclude
    )
    report.save(settings.index.dir)
    return report
