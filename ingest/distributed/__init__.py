"""Distributed ingestion and embedding on Ray Data (`pip install 'heprag[dist]'`)."""

from __future__ import annotations

from heprag.ingest.distributed.cluster import connect
from heprag.ingest.distributed.ivf_build import SizedVectors, StreamedIVF
from heprag.ingest.distributed.pipeline import RayIngestor, RayOptions

__all__ = ["RayIngestor", "RayOptions", "SizedVectors", "StreamedIVF", "connect"]
