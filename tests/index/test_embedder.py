"""The embedder's CPU backends and process pool give the torch vectors, on real chunks of a Higgs paper."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from heprag.index import embedding_backends
from heprag.index.embedder import Embedder
from heprag.index.embedding_backends import Backend
from heprag.index.errors import ConfigError, IndexMismatchError
from tests.conftest import TEST_CACHE

BACKENDS = TEST_CACHE / "backends"  # exported models persist across runs, as for users


@pytest.fixture(scope="module")
def chunks(higgs_dir: Path) -> list[str]:
    from heprag.ingest.chunking import chunk_document
    from heprag.ingest.sources.pdf import parse_pdf

    doc = next(parse_pdf(higgs_dir / "2007.07830v2.pdf"))
    return [c.text for c in chunk_document(doc, Embedder().count_tokens)][:24]


@pytest.fixture(scope="module")
def torch_vectors(chunks: list[str]) -> np.ndarray:
    return Embedder(device="cpu").embed_documents(chunks)


def test_a_missing_extra_is_a_config_error_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name == "openvino" else real(name))
    with pytest.raises(ConfigError, match=r"heprag\[openvino\]"):
        Embedder(backend="openvino")
    Embedder(backend="torch")  # needs nothing extra


def test_backends_other_than_torch_run_on_cpu() -> None:
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    assert Embedder(backend="onnx").device == "cpu"
    with pytest.raises(ConfigError, match="runs on CPU"):
        Embedder(backend="onnx", device="cuda")


def test_only_int8_changes_the_vector_space(small_index: Path) -> None:
    from heprag.index.store import CorpusIndex

    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    fp32 = Embedder().model_id
    assert Embedder(backend="onnx").model_id == fp32
    assert Embedder(backend="onnx-int8").model_id != fp32
    CorpusIndex.open(small_index, Embedder(backend="onnx").model_id).close()
    with pytest.raises(IndexMismatchError):
        CorpusIndex.open(small_index, Embedder(backend="onnx-int8").model_id)


@pytest.mark.corpus
@pytest.mark.parametrize(
    ("backend", "module", "min_cos"),
    [("onnx", "onnxruntime", 0.99999), ("openvino", "openvino", 0.99999), ("onnx-int8", "onnxruntime", 0.98)],
)
def test_backend_vectors_match_torch(
    backend: Backend, module: str, min_cos: float, chunks: list[str], torch_vectors: np.ndarray
) -> None:
    pytest.importorskip(module)
    pytest.importorskip("onnx")
    vectors = Embedder(backend=backend, backend_dir=BACKENDS).embed_documents(chunks)
    cos = (vectors * torch_vectors).sum(axis=1)
    assert vectors.shape == torch_vectors.shape
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert cos.min() >= min_cos, (backend, cos.min())
    if backend == "onnx-int8":
        assert cos.mean() < 0.9999  # int8 really is a different (nearby) space: its own model_id


@pytest.mark.corpus
def test_the_export_happens_once_per_model(
    tmp_path: Path, chunks: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    first = Embedder(backend="onnx", backend_dir=tmp_path).embed_query(chunks[0])
    assert len(list(tmp_path.glob("*/model.onnx"))) == 1

    def no_export(*_: object) -> None:
        raise AssertionError("exported again")

    monkeypatch.setattr(embedding_backends, "_export", no_export)
    again = Embedder(backend="onnx", backend_dir=tmp_path).embed_query(chunks[0])
    np.testing.assert_array_equal(first, again)


@pytest.mark.corpus
@pytest.mark.slow
def test_a_process_pool_gives_single_process_vectors(chunks: list[str], torch_vectors: np.ndarray) -> None:
    """Two CPU workers take the code path that several GPUs take."""
    embedder = Embedder(device="cpu", devices=["cpu", "cpu"], batch_size=4)
    assert embedder.pool_devices == ["cpu", "cpu"]
    try:
        vectors = embedder.embed_documents(chunks)
        assert embedder._pool is not None and len(embedder._pool["processes"]) == 2
    finally:
        embedder.close()
    assert embedder._pool is None
    np.testing.assert_allclose(vectors, torch_vectors, atol=1e-5)


def test_one_device_or_a_cpu_backend_uses_no_pool() -> None:
    assert Embedder(device="cpu").pool_devices == []
    assert Embedder(device="cpu", devices=["cpu"]).pool_devices == []
