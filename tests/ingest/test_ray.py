"""Ray Data ingestion gives the same index as the single-process path, on a local 2-CPU cluster."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from heprag.app.library import Library
from heprag.index.embedder import Embedder
from heprag.index.embedding_cache import EmbeddingCache
from heprag.index.metadata import MetadataStore
from heprag.index.store import CorpusIndex, current_generation
from heprag.ingest.pipeline import Ingestor
from tests.conftest import TEST_CACHE, require_corpus

ray = pytest.importorskip("ray", reason="distributed ingestion needs `pip install 'heprag[dist]'`")
pytestmark = [pytest.mark.slow, pytest.mark.corpus]

PDFS = ["1804.02610v2.pdf", "1806.00425v2.pdf"]  # the two shortest real Higgs papers (29 and 34 pages)
ABSTRACTS = 12
QUERIES = [
    "observation of ttH production",
    "Higgs boson decay to bottom quarks",
    "emergent string conjecture moduli space",
    "signal strength relative to the standard model prediction",
]


@pytest.fixture(scope="module")
def corpus_slice(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two Higgs PDFs and the first abstract records of the hep-th listing, copied to a temp folder."""
    folder = tmp_path_factory.mktemp("slice")
    for name in PDFS:
        shutil.copy(require_corpus("pdfs", "higgs", name), folder / name)
    lines = require_corpus("abstracts", "arxiv_hepth_2026", "hepth_2026.jsonl").read_text().splitlines()
    (folder / "hepth.jsonl").write_text("\n".join(lines[:ABSTRACTS]) + "\n")
    return folder


@pytest.fixture(scope="module")
def cluster() -> Iterator[None]:
    ray.init(num_cpus=2, object_store_memory=1 << 30, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def built(corpus_slice: Path, cluster: None, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(single-process index, Ray index) of the same slice; the Ray run embeds everything afresh."""
    from heprag.ingest.distributed import RayIngestor, RayOptions

    root = tmp_path_factory.mktemp("indexes")
    single = Ingestor(root / "single", Embedder(cache=EmbeddingCache(TEST_CACHE / "embeddings.sqlite")))
    single.show_progress = False
    assert single.ingest_paths([corpus_slice]).failed == []
    fresh = Embedder(cache=EmbeddingCache(root / "fresh-cache" / "embeddings.sqlite"))
    report = RayIngestor(root / "ray", fresh, options=RayOptions(workers=2)).ingest_paths([corpus_slice])
    assert report.failed == [] and report.files_parsed == 3
    assert report.chunks_embedded == report.chunks_written > 0  # every vector computed by the Ray actors
    return root / "single", root / "ray"


def _store(index_dir: Path) -> MetadataStore:
    """The store of the one segment a single ingest writes."""
    index = CorpusIndex.open(index_dir)
    assert len(index.segments) == 1
    return index.segments[0].meta


def _chunks(store: MetadataStore) -> list[tuple[str, str, int, str]]:
    return store.db.execute(
        "SELECT chunk_id, doc_id, ordinal, text FROM chunks ORDER BY doc_id, ordinal"
    ).fetchall()


def test_same_documents_and_chunks(built: tuple[Path, Path]) -> None:
    single, distributed = (_store(p) for p in built)
    assert [d.model_dump() for d in distributed.documents()] == [d.model_dump() for d in single.documents()]
    assert len(list(single.documents())) == len(PDFS) + ABSTRACTS
    assert _chunks(distributed) == _chunks(single)


def test_same_vectors_within_float_tolerance(built: tuple[Path, Path]) -> None:
    single, distributed = (_store(p) for p in built)
    ids = [row[0] for row in _chunks(single)]
    a, b = single.vectors_by_chunk_ids(ids), distributed.vectors_by_chunk_ids(ids)
    assert set(a) == set(b) == set(ids)
    worst = max(float(np.abs(a[c] - b[c]).max()) for c in ids)
    assert worst < 1e-4, f"largest vector difference {worst}"


def test_same_manifest(built: tuple[Path, Path]) -> None:
    single, distributed = (json.loads((current_generation(p) / "manifest.json").read_text()) for p in built)  # type: ignore[operator]
    for key in ("embedding", "chunking", "counts", "faiss_kind"):
        assert distributed[key] == single[key], key


@pytest.mark.parametrize("mode", ["dense", "hybrid"])
def test_same_top10(built: tuple[Path, Path], mode: str) -> None:
    single, distributed = (Library.open(p) for p in built)
    for query in QUERIES:
        expected = [h.chunk.chunk_id for h in single.search(query, k=10, mode=mode)]  # type: ignore[arg-type]
        got = [h.chunk.chunk_id for h in distributed.search(query, k=10, mode=mode)]  # type: ignore[arg-type]
        assert got == expected, query


def test_rerun_skips_unchanged_documents(built: tuple[Path, Path], corpus_slice: Path) -> None:
    from heprag.ingest.distributed import RayIngestor

    _, distributed = built
    generation = current_generation(distributed)
    report = RayIngestor(distributed, Embedder(cache=None)).ingest_paths([corpus_slice])
    assert len(report.unchanged) == len(PDFS) + ABSTRACTS and not report.added and not report.updated
    assert report.chunks_embedded == 0 and current_generation(distributed) == generation
