"""The Ray Data stages, thin wrappers over the single-process pieces: parse, chunk, embed.

Rows are plain columns so that every stage's output can be written as Parquet shards:
documents carry `file_idx`/`doc_idx` (discovery order, so a later duplicate id wins as in the
single-process path) and the Document as JSON; chunks carry the Chunk as JSON, its text and, after
embedding, a fixed-size float32 `vector`.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from heprag.index.embedder import Device, Embedder
from heprag.index.embedding_backends import Backend
from heprag.index.embedding_cache import EmbeddingCache
from heprag.index.errors import HepragError
from heprag.index.types import Chunk, Document
from heprag.ingest.chunking import ChunkSettings, chunk_document
from heprag.ingest.discover import Found
from heprag.ingest.identity import representations
from heprag.ingest.merge import merge
from heprag.ingest.sources.base import ParseLimits, parser_for

DOC_COLUMNS = ["file_idx", "doc_idx", "doc_id", "content_hash", "doc_json", "path", "error"]


def parse_file(row: dict[str, Any], limits: ParseLimits) -> list[dict[str, Any]]:
    """One file -> its documents as rows, or one error row: a bad file never kills the job."""
    path = Path(row["path"])
    base = {"file_idx": int(row["file_idx"]), "path": str(path), "doc_id": "", "content_hash": ""}
    parser = parser_for(path)
    try:
        if parser is None:
            raise HepragError(f"{path}: no parser reads this kind of file")
        docs = list(parser.parse(path, limits))
        # ids as the single-process path gives them (merging across files is that path's alone)
        found = Found(path, Path(row.get("root") or path.parent), parser)
        docs = merge(representations(found, docs, 0)).documents if docs else []
    except HepragError as exc:
        return [{**base, "doc_idx": -1, "doc_json": "", "error": str(exc)}]
    except Exception as exc:  # a parser bug must not abort the batch
        return [{**base, "doc_idx": -1, "doc_json": "", "error": f"unexpected {type(exc).__name__}: {exc}"}]
    return [
        {
            **base,
            "doc_idx": i,
            "doc_id": doc.doc_id,
            "content_hash": doc.content_hash,
            "doc_json": doc.model_dump_json(),
            "error": "",
        }
        for i, doc in enumerate(docs)
    ]


def document_rows(documents: list[Document], file_idx: int = 0) -> list[dict[str, Any]]:
    """Documents handed in directly (already parsed), as document rows."""
    return [
        {
            "file_idx": file_idx,
            "doc_idx": i,
            "doc_id": d.doc_id,
            "content_hash": d.content_hash,
            "doc_json": d.model_dump_json(),
            "path": d.path or "",
            "error": "",
        }
        for i, d in enumerate(documents)
    ]


@functools.lru_cache(maxsize=2)
def _token_counter(model: str) -> Callable[..., list[int]]:
    """The embedder's own token counter, loaded once per worker process."""
    return Embedder(model, device="cpu").count_tokens


def chunk_batch(batch: dict[str, np.ndarray], model: str, settings: ChunkSettings) -> pa.Table:
    """Document rows -> chunk rows, with `chunk_document` and the embedder's tokenizer."""
    count = _token_counter(model)
    rows: dict[str, list[Any]] = {k: [] for k in ("file_idx", "doc_idx", "ordinal", "chunk_json", "text")}
    for file_idx, doc_idx, doc_json in zip(
        batch["file_idx"], batch["doc_idx"], batch["doc_json"], strict=True
    ):
        for chunk in chunk_document(Document.model_validate_json(doc_json), count, settings):
            rows["file_idx"].append(int(file_idx))
            rows["doc_idx"].append(int(doc_idx))
            rows["ordinal"].append(chunk.ordinal)
            rows["chunk_json"].append(chunk.model_dump_json(exclude={"text"}))
            rows["text"].append(chunk.text)
    schema = pa.schema(
        [
            ("file_idx", pa.int64()),
            ("doc_idx", pa.int64()),
            ("ordinal", pa.int64()),
            ("chunk_json", pa.string()),
            ("text", pa.string()),
        ]
    )
    return pa.Table.from_pydict(rows, schema=schema)


class EmbedActor:
    """A Ray actor holding one `Embedder` (a GPU when it was given one); adds a `vector` column."""

    def __init__(
        self,
        model: str,
        device: Device,
        batch_size: int,
        cache_dir: str | None,
        document_prompt: str = "",
        backend: Backend = "torch",
        backend_dir: str | None = None,
        threads: int = 0,
    ) -> None:
        if threads:  # one core per CPU actor: N actors scale over N cores instead of oversubscribing them
            import torch

            torch.set_num_threads(threads)
        cache = EmbeddingCache(Path(cache_dir) / "embeddings.sqlite") if cache_dir else None
        self.embedder = Embedder(
            model,
            device,
            batch_size,
            cache,
            document_prompt=document_prompt,
            backend=backend,
            backend_dir=Path(backend_dir) if backend_dir else None,
        )

    def __call__(self, batch: pa.Table) -> pa.Table:
        texts = batch.column("text").to_pylist()
        before = self.embedder.embedded_count
        vectors = self.embedder.embed_documents(texts)
        flat = pa.array(vectors.reshape(-1).astype(np.float32), type=pa.float32())
        column = pa.FixedSizeListArray.from_arrays(flat, self.embedder.dim)
        # vectors computed (not cached) by this batch, carried on its first row so that a sum adds up
        embedded = np.zeros(batch.num_rows, dtype=np.int64)
        if batch.num_rows:
            embedded[0] = self.embedder.embedded_count - before
        return batch.append_column("vector", column).append_column("embedded", pa.array(embedded))


def chunk_from_row(chunk_json: str, text: str) -> Chunk:
    return Chunk.model_validate({**json.loads(chunk_json), "text": text})
