"""Connecting to Ray: a local cluster started here, `auto` (the running cluster) or a `ray://` address."""

from __future__ import annotations

import logging
from types import ModuleType

from heprag.index.errors import ConfigError

log = logging.getLogger(__name__)

# Workers read the packaged model offline and must not fork tokenizer thread pools.
WORKER_ENV = {"HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "TRANSFORMERS_VERBOSITY": "error"}


def import_ray() -> ModuleType:
    """The `ray` module, or a ConfigError saying how to install it."""
    try:
        import ray
        import ray.data
    except ImportError as exc:
        raise ConfigError(
            f"distributed ingestion needs Ray Data ({exc}); install it with `pip install 'heprag[dist]'`"
        ) from exc
    return ray


def connect(address: str | None = None, num_cpus: int | None = None) -> bool:
    """Attach to (or start) a Ray cluster; True when this call started it and should shut it down.

    `None`, `""` or `"local"` start a local cluster (`num_cpus` caps it); `"auto"` joins the cluster
    running on this machine; `"ray://host:10001"` connects as a client.
    """
    ray = import_ray()
    if ray.is_initialized():
        return False
    runtime_env = {"env_vars": WORKER_ENV}
    try:
        if address in (None, "", "local"):
            ray.init(num_cpus=num_cpus, include_dashboard=False, runtime_env=runtime_env, log_to_driver=False)
        else:
            ray.init(address=address, runtime_env=runtime_env, log_to_driver=False)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise ConfigError(
            f"cannot connect to Ray at {address!r} ({exc}); start one with `ray start --head` and pass "
            "`--ray auto`, give a `ray://HOST:10001` address, or pass `--ray` alone for a local cluster"
        ) from exc
    log.info("ray cluster: %s", ray.cluster_resources())
    return True


def cluster_gpus() -> int:
    """Whole GPUs the connected cluster offers."""
    return int(import_ray().cluster_resources().get("GPU", 0))


def cluster_cpus() -> int:
    return int(import_ray().cluster_resources().get("CPU", 1))
