"""CPU inference backends for the embedder: ONNX Runtime (fp32 or dynamic int8) and OpenVINO.

Only the transformer's forward pass moves to the other runtime; tokenisation, pooling and
normalisation stay sentence-transformers' own, so fp32 backends give the torch vectors to within
float rounding. The transformer is exported to ONNX once per model and cached on disk.

Why not sentence-transformers' own `backend="onnx"|"openvino"`: they need optimum-onnx, whose only
release pins transformers < 4.58 while sentence-transformers 6 needs transformers 5, or optimum-intel,
which downgrades transformers and pulls torchvision and nncf. `torch.onnx.export` needs only `onnx`;
ONNX Runtime already comes with PyMuPDF, and OpenVINO reads the ONNX file directly.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import numpy as np

from heprag.index.errors import ConfigError

log = logging.getLogger(__name__)

Backend = Literal["torch", "onnx", "onnx-int8", "openvino"]
# backend -> (modules it imports, the pip extra that installs them)
_NEEDS: dict[str, tuple[tuple[str, ...], str]] = {
    "onnx": (("onnx", "onnxruntime"), "onnx"),
    "onnx-int8": (("onnx", "onnxruntime"), "onnx"),
    "openvino": (("onnx", "openvino"), "openvino"),
}
Runner = Callable[[dict[str, np.ndarray]], np.ndarray]


def require(backend: Backend) -> None:
    """Raise ConfigError naming the extra to install when `backend` cannot be imported here."""
    if backend == "torch":
        return
    modules, extra = _NEEDS[backend]
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise ConfigError(
            f"embedding.backend = {backend!r} needs {', '.join(missing)}: "
            f"`pip install 'heprag[{extra}]'`, or set embedding.backend = 'torch'"
        )


def fingerprint(model_path: str) -> str:
    """Short hash of a model's files (names, sizes, mtimes), so an updated model is re-exported."""
    digest = hashlib.sha256(model_path.encode())
    root = Path(model_path)
    if root.is_dir():
        for file in sorted(p for p in root.rglob("*") if p.is_file()):
            stat = file.stat()
            digest.update(f"{file.relative_to(root)}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def onnx_file(model: Any, model_path: str, backend: Backend, cache_dir: Path) -> Path:
    """The cached ONNX file `backend` runs (exported, and quantised for int8, on first use)."""
    folder = cache_dir / f"{Path(model_path).name}-{fingerprint(model_path)}"
    fp32 = folder / "model.onnx"
    if not fp32.exists():
        log.info("exporting %s to ONNX in %s (once)", model_path, folder)
        _atomic(fp32, lambda tmp: _export(model, tmp))
    if backend != "onnx-int8":
        return fp32
    int8 = folder / "model-int8.onnx"
    if not int8.exists():
        _atomic(int8, lambda tmp: _quantize(fp32, tmp))
    return int8


def install(model: Any, backend: Backend, model_path: str, cache_dir: Path) -> None:
    """Run `model`'s transformer module in `backend` from now on (the model must start with one)."""
    module = model[0]
    if not hasattr(module, "module_output_name") or not hasattr(module, "model"):
        raise ConfigError(
            f"embedding.backend = {backend!r} needs a transformer model and sentence-transformers >= 6; "
            "use 'torch'"
        )
    path = onnx_file(model, model_path, backend, cache_dir)
    runner = (_openvino_runner if backend == "openvino" else _onnxruntime_runner)(path, _torch_threads())
    module.forward = _ExportedForward(runner, _input_names(model), module.module_output_name)


class _ExportedForward:
    """Replaces the transformer module's forward: features in, token embeddings from `runner` out."""

    def __init__(self, runner: Runner, inputs: list[str], output: str) -> None:
        self.runner, self.inputs, self.output = runner, inputs, output

    def __call__(self, features: dict[str, Any], **_: Any) -> dict[str, Any]:
        import torch

        feed = {name: features[name].cpu().numpy().astype(np.int64) for name in self.inputs}
        features[self.output] = torch.from_numpy(np.ascontiguousarray(self.runner(feed)))
        return features


def _input_names(model: Any) -> list[str]:
    features = model.preprocess(["a probe sentence"])
    return [name for name, value in features.items() if hasattr(value, "numpy")]


def _export(model: Any, target: Path) -> None:
    import torch

    names = _input_names(model)
    transformer = model[0].model
    example = model.preprocess(["an example input", "a second, longer example input sentence"])

    class Wrapped(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = transformer

        def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
            return self.inner(**dict(zip(names, tensors, strict=True))).last_hidden_state

    previous = transformer.config._attn_implementation
    transformer.set_attn_implementation("eager")  # plain matmuls: ONNX Runtime fuses them into Attention
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # tracer warnings about shapes, checked by the tests
            torch.onnx.export(
                Wrapped().eval(),
                tuple(example[name].cpu() for name in names),
                str(target),
                input_names=names,
                output_names=["token_embeddings"],
                dynamic_axes={name: {0: "batch", 1: "tokens"} for name in [*names, "token_embeddings"]},
                opset_version=17,
                dynamo=False,
            )
    finally:
        transformer.set_attn_implementation(previous)


def _quantize(source: Path, target: Path) -> None:
    """Dynamic int8 weights, per channel; reduce_range avoids the saturation of u8×s8 on AVX2/AVX-512."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(source, target, per_channel=True, reduce_range=True, weight_type=QuantType.QInt8)


def _atomic(target: Path, write: Callable[[Path], None]) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _torch_threads() -> int:
    import torch

    return int(torch.get_num_threads())


def _onnxruntime_runner(path: Path, threads: int) -> Runner:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return lambda feed: session.run(None, feed)[0]


def _openvino_runner(path: Path, threads: int) -> Runner:
    import openvino as ov

    core = ov.Core()
    compiled = core.compile_model(core.read_model(str(path)), "CPU", {"INFERENCE_NUM_THREADS": str(threads)})
    request = compiled.create_infer_request()
    return lambda feed: np.array(request.infer(feed)[0])
