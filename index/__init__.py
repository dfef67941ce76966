"""heprag.index: core types, embedder, FAISS + BM25 + SQLite storage and hybrid retrieval."""

import logging

from heprag.index.errors import (
    ConfigError,
    HepragError,
    IndexCorruptError,
    IndexMismatchError,
    IndexMissingError,
    LimitExceededError,
    ParseError,
)
from heprag.index.types import Block, Chunk, Document, Hit, Reference, content_hash

logging.getLogger("heprag").addHandler(logging.NullHandler())

__all__ = [
    "Block",
    "Chunk",
    "ConfigError",
    "Document",
    "HepragError",
    "Hit",
    "IndexCorruptError",
    "IndexMismatchError",
    "IndexMissingError",
    "LimitExceededError",
    "ParseError",
    "Reference",
    "content_hash",
]
