"""Settings: the composition root. `heprag.toml` (path from --config or HEPRAG_CONFIG) + HEPRAG_* env vars.

Environment variables use `__` between levels, e.g. `HEPRAG_EMBEDDING__MODEL`, `HEPRAG_RETRIEVAL__K`;
`HEPRAG_INDEX_DIR` is a shortcut for `index.dir`. Unknown keys are errors, never silently ignored, and so
are unknown `HEPRAG_*` variables (a typo like `HEPRAG_RETRIEVEL__K` would otherwise do nothing).
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from heprag.index.embedder import DEFAULT_MODEL, Embedder
from heprag.index.embedding_cache import EmbeddingCache
from heprag.index.errors import ConfigError
from heprag.ingest.discover import DEFAULT_EXCLUDE


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IndexSettings(_Section):
    dir: Path = Field(
        default_factory=lambda: Path(platformdirs.user_data_dir("heprag")) / "index",
        description="Index directory (also --index or HEPRAG_INDEX_DIR)",
    )
    faiss_kind: Literal["auto", "flat", "hnsw", "ivf", "ivfpq"] = "auto"
    nprobe: int = Field(
        64, ge=1, description="IVF lists probed per query (64: recall@10 ≥ 0.99 on real MiniLM vectors)"
    )
    ef_search: int = Field(128, ge=8, description="HNSW search breadth")


class EmbeddingSettings(_Section):
    model: str = Field(
        DEFAULT_MODEL, description="Packaged model name, local path or sentence-transformers name"
    )
    device: Literal["auto", "cpu", "cuda", "mps"] = "auto"
    backend: Literal["torch", "onnx", "onnx-int8", "openvino"] = Field(
        "torch",
        description="CPU runtime: onnx / openvino give the torch vectors (extras [onnx] / [openvino]); "
        "onnx-int8 is a separate vector space (an index built with it needs it)",
    )
    devices: list[str] = Field(
        default_factory=list,
        description="Devices of a passage-encoding process pool, e.g. ['cuda:0', 'cuda:1'] "
        "(empty: every GPU when more than one is visible)",
    )
    batch_size: int = Field(32, ge=1)
    cache_dir: Path = Field(
        default_factory=lambda: Path(platformdirs.user_cache_dir("heprag")),
        description="Where embeddings (by content hash) and exported ONNX models are cached",
    )
    query_prompt: str = Field("", description="Prefix for queries (e.g. 'query: ' for e5 models)")
    document_prompt: str = Field("", description="Prefix for passages (e.g. 'passage: ' for e5 models)")


class ChunkingSettings(_Section):
    max_tokens: int = Field(230, ge=32, description="Chunk budget in embedder tokens (MiniLM reads 256)")
    overlap_sentences: int = Field(1, ge=0)
    min_tokens: int = Field(48, ge=0, description="Smaller sections merge with the next one")


class IngestSettings(_Section):
    include: list[str] = Field(default_factory=list, description="Glob patterns a file must match")
    exclude: list[str] = Field(
        default_factory=lambda: list(DEFAULT_EXCLUDE),
        description="Globs of files/folders to skip (reported as skipped); a glob without '/' matches any "
        "path component. The default skips dot-files and VCS folders, READMEs, licences and templates",
    )
    max_file_bytes: int = 200_000_000
    max_pages: int = 3_000
    max_archive_members: int = 5_000
    max_decompressed_bytes: int = 500_000_000
    parse_timeout_s: float = Field(
        120.0, ge=0, description="Per-file parse time limit (0 = parse in-process)"
    )
    parse_memory_mb: int = Field(4096, ge=256, description="Address-space cap of the parsing worker")


class ArxivSettings(_Section):
    """Where the chat's "Add documents" fetches arXiv papers: arXiv itself, a mirror or a test server."""

    api_url: str = Field("https://export.arxiv.org/api/query", description="arXiv API query endpoint")
    pdf_base_url: str = Field("https://arxiv.org/pdf", description="PDFs are fetched from <this>/<id>")
    source_base_url: str = Field("https://arxiv.org/e-print", description="LaTeX e-prints: <this>/<id>")
    delay_seconds: float = Field(3.0, ge=0, description="Pause between requests (arXiv asks for 3 s)")


class RetrievalSettings(_Section):
    k: int = Field(8, ge=1, le=100, description="Passages retrieved per question")
    candidates: int = Field(50, ge=1, description="Candidates per retriever before fusion")
    rrf_k: int = Field(60, ge=1)
    per_doc_cap: int = Field(4, ge=0, description="Max hits from one document (0 = no cap)")
    mode: Literal["hybrid", "dense", "bm25"] = "hybrid"
    dense_weight: float = Field(1.0, ge=0, description="Weight of the dense ranking in the RRF")
    bm25_weight: float = Field(1.0, ge=0, description="Weight of the BM25 ranking in the RRF")
    diversity: Literal["cap", "mmr"] = Field(
        "cap", description="cap: per_doc_cap only; mmr: maximal marginal relevance over the chunk vectors too"
    )
    mmr_lambda: float = Field(0.7, ge=0, le=1, description="MMR: 1 = relevance order, lower = more diverse")
    rerank_model: str = Field(
        "", description="Local cross-encoder directory reranking the fused hits ('' = off; none is packaged)"
    )
    rerank_candidates: int = Field(30, ge=1, description="Fused hits the cross-encoder re-scores")


class AnswerSettings(_Section):
    backend: Literal["extractive", "openai", "llamacpp"] = "extractive"
    max_sentences: int = Field(4, ge=1, le=20)
    # Nothing in the index is close to the question below this best-passage cosine (set 2026-11-22 on 8 Higgs
    # PDFs with MiniLM); whether the passages state what is asked is the answer plan's decision.
    refusal_threshold: float = Field(0.435, description="Refuse when the best passage's cosine is below this")
    on_ungrounded: Literal["flag", "drop"] = "flag"


class LLMSettings(_Section):
    base_url: str = "http://127.0.0.1:8000/v1"
    model: str = "default"
    api_key: SecretStr = SecretStr("")
    timeout_s: float = 60.0
    max_retries: int = 2
    temperature: float = 0.0
    gguf_path: str = ""
    max_tokens: int = Field(512, ge=16, description="Most tokens one generated answer may have")


class EvalSettings(_Section):
    reports_dir: Path = Field(Path("eval-runs"), description="Where `heprag eval` writes timestamped reports")
    judge: Literal["lexical", "llm"] = Field("lexical", description="Support judge for answer evals")
    judge_model: str = Field("", description="Model name for the llm judge (default: llm.model)")


class MCPSettings(_Section):
    host: str = Field(
        "127.0.0.1", description="Bind address of `heprag mcp --http`; non-loopback needs a token"
    )
    port: int = Field(
        8765, ge=0, le=65535, description="HTTP port of `heprag mcp --http` (0 = any free port)"
    )
    token: SecretStr = Field(
        SecretStr(""), description="Bearer token HTTP clients must send (HEPRAG_MCP__TOKEN); empty = none"
    )
    max_request_bytes: int = Field(1_000_000, ge=1024, description="Larger HTTP request bodies get 413")
    read_timeout_s: float = Field(
        10.0, gt=0, description="An HTTP request's headers, then its body, must arrive within this (else 408)"
    )
    max_connections_per_client: int = Field(
        32, ge=1, description="Open HTTP connections one client address may hold; more get 503"
    )
    max_concurrent: int = Field(4, ge=1, description="Tool calls run at once in worker threads")


class SummarySettings(_Section):
    """`heprag summarize`: topic reports (selection, map/reduce summaries, key numbers)."""

    max_documents: int = Field(8, ge=1, le=100, description="Documents per report")
    search_k: int = Field(80, ge=10, description="Passages retrieved for the topic before aggregation")
    passages_per_document: int = Field(4, ge=1, description="Topic passages a document summary reads")
    sentences_per_document: int = Field(3, ge=1, le=20, description="Sentences per document summary")
    synthesis_per_document: int = Field(2, ge=1, description="Sentences per document in the offline digest")
    key_numbers_per_document: int = Field(4, ge=0, description="Rows per document in the key-numbers table")
    mmr_lambda: float = Field(0.7, ge=0, le=1, description="Relevance vs diversity when picking documents")
    min_cosine: float = Field(0.3, description="A document needs a passage at least this close to the topic")
    min_relevance: float = Field(
        0.3, ge=0, le=1, description="...and a relevance at least this share of the best"
    )
    parallel: int = Field(4, ge=1, description="LLM calls in flight at once")
    cache: bool = Field(True, description="Cache per-document summaries under <index>/summaries")


class DistributedSettings(_Section):
    """`heprag ingest --ray`: Ray Data ingestion (heprag.ingest.distributed)."""

    workers: int = Field(0, ge=0, description="CPU embedding actors without GPUs (0 = one per CPU)")
    embed_batch_rows: int = Field(512, ge=1, description="Chunks handed to an embedding actor at a time")
    stream_above: int = Field(
        2_000_000, ge=1, description="Vectors from which FAISS IVF-PQ is trained once and merged on disk"
    )
    work_dir: Path | None = Field(None, description="Parquet shards (default <index>/.ray-work); shared FS")
    keep_shards: bool = Field(False, description="Keep the Parquet shards after publishing")


class Settings(BaseSettings):
    """Every setting of heprag, one section per layer."""

    model_config = SettingsConfigDict(env_prefix="HEPRAG_", env_nested_delimiter="__", extra="forbid")

    index: IndexSettings = Field(default_factory=IndexSettings)
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    chunking: ChunkingSettings = Field(default_factory=ChunkingSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    arxiv: ArxivSettings = Field(default_factory=ArxivSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    answer: AnswerSettings = Field(default_factory=AnswerSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    mcp: MCPSettings = Field(default_factory=MCPSettings)
    eval: EvalSettings = Field(default_factory=EvalSettings)
    summaries: SummarySettings = Field(default_factory=SummarySettings)
    distributed: DistributedSettings = Field(default_factory=DistributedSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        toml = _config_path()
        if toml is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml))
        return tuple(sources)


# HEPRAG_* variables that are not settings: the config file, the index shortcut, fault injection, tests.
OTHER_VARIABLES = frozenset({"HEPRAG_CONFIG", "HEPRAG_INDEX_DIR", "HEPRAG_FAULT_INJECT"})
TEST_VARIABLE_PREFIX = "HEPRAG_TEST_"


def setting_variables() -> list[str]:
    """Every HEPRAG_* variable heprag reads: one per section (JSON) and one per setting, plus the others."""
    names = set(OTHER_VARIABLES)
    for section, field in Settings.model_fields.items():
        names.add(f"HEPRAG_{section.upper()}")
        model = field.annotation
        if isinstance(model, type) and issubclass(model, BaseModel):
            names.update(f"HEPRAG_{section.upper()}__{key.upper()}" for key in model.model_fields)
    return sorted(names)


def check_environment(environ: Mapping[str, str] = os.environ) -> None:
    """Raise `ConfigError` for a HEPRAG_* variable heprag does not read, naming the closest valid one."""
    valid = setting_variables()
    for name in sorted(environ):
        upper = name.upper()
        if not upper.startswith("HEPRAG_") or upper.startswith(TEST_VARIABLE_PREFIX) or upper in valid:
            continue
        close = difflib.get_close_matches(upper, valid, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]}?" if close else "see `heprag config show` for the settings"
        raise ConfigError(f"unknown environment variable {name}: {hint} (unset it, or fix the name)")


_CONFIG_OVERRIDE: list[Path] = []


def _config_path() -> Path | None:
    if _CONFIG_OVERRIDE:
        return _CONFIG_OVERRIDE[-1]
    env = os.environ.get("HEPRAG_CONFIG")
    if env:
        return Path(env)
    default = Path("heprag.toml")
    return default if default.exists() else None


def load_settings(config: Path | None = None, index_dir: Path | None = None, **overrides: Any) -> Settings:
    """Settings from (highest first) explicit arguments, HEPRAG_* env vars, the TOML file, defaults."""
    if config is not None and not config.is_file():
        raise ConfigError(f"config file {config} does not exist (or is not a file)")
    check_environment()
    if config is not None:
        _CONFIG_OVERRIDE.append(config)
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"invalid settings ({_config_path() or 'environment'}): {problems}") from exc
    finally:
        if config is not None:
            _CONFIG_OVERRIDE.pop()
    env_dir = os.environ.get("HEPRAG_INDEX_DIR")
    if index_dir is not None or env_dir:
        settings.index.dir = Path(index_dir or env_dir or "").expanduser()
    return settings


def make_embedder(settings: Settings) -> Embedder:
    """The embedder every entry point uses: model, device, backend, prompts and cache from settings."""
    e = settings.embedding
    return Embedder(
        e.model,
        e.device,
        e.batch_size,
        EmbeddingCache(e.cache_dir / "embeddings.sqlite"),
        e.query_prompt,
        e.document_prompt,
        backend=e.backend,
        devices=e.devices,
        backend_dir=e.cache_dir / "backends",
    )
