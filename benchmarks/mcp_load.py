"""Load test of `heprag mcp --http`: N concurrent `search_literature` calls through real MCP sessions.

    python benchmarks/mcp_load.py INDEX_DIR [--calls 50] [--concurrency 50]

Starts the HTTP server on a free loopback port (with a bearer token), opens `--concurrency` client
sessions at once, fires `--calls` searches in total, and prints p50/p95 latency, throughput and
errors. Exits 1 on any error. Traffic stays on 127.0.0.1; the run is bounded in calls and time.
"""

from __future__ import annotations

import argparse
import os
import queue
import secrets
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import anyio
import httpx2
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

QUERIES = [
    "Higgs boson decay to two muons significance",
    "observation of ttH production",
    "H to bb decay in VH production",
    "signal strength combination",
    "dimuon invariant mass resolution",
    "systematic uncertainties jet energy scale",
    "boosted decision tree event categories",
    "integrated luminosity 139 fb-1",
    "background modelling Drell-Yan",
    "expected and observed significance",
]


def start_server(index_dir: Path, token: str, timeout: float) -> tuple[subprocess.Popen[str], str, float]:
    """The server process, its URL and how long it took to start listening."""
    heprag = Path(sys.executable).parent / "heprag"
    env = {**os.environ, "HEPRAG_MCP__TOKEN": token, "HF_HUB_OFFLINE": "1"}
    cmd = [str(heprag), "--index", str(index_dir), "mcp", "--http", "--host", "127.0.0.1", "--port", "0"]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in proc.stderr or []:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            if proc.poll() is not None:
                break
            continue
        seen.append(line)
        if "listening on" in line:
            return proc, line.split("listening on", 1)[1].strip(), time.perf_counter() - t0
    proc.kill()
    raise SystemExit(f"server did not start within {timeout:.0f} s:\n{''.join(seen)}")


async def run_load(
    url: str, token: str, calls: int, concurrency: int, k: int, timeout: float
) -> tuple[list[float], list[str], float]:
    """Latency (s) of each successful call, the errors, and the load window (first call to last answer)."""
    latencies: list[float] = []
    errors: list[str] = []
    todo = list(range(calls))
    ready = anyio.Event()
    opened = 0
    started: list[float] = []

    async def worker() -> None:
        nonlocal opened
        headers = {"Authorization": f"Bearer {token}"}
        async with (
            httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(300)) as client,
            streamable_http_client(url, http_client=client) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            opened += 1
            if opened == concurrency:
                started.append(time.perf_counter())
                ready.set()
            await ready.wait()  # every session is open: the calls really are concurrent
            while todo:
                i = todo.pop()
                t0 = time.perf_counter()
                try:
                    result = await session.call_tool(
                        "search_literature", {"query": QUERIES[i % len(QUERIES)], "k": k}
                    )
                    if result.is_error or not (result.structured_content or {}).get("passages"):
                        errors.append(f"call {i}: {result.content}")
                        continue
                    latencies.append(time.perf_counter() - t0)
                except Exception as exc:  # counted and reported, never fatal to the run
                    errors.append(f"call {i}: {exc!r}")

    with anyio.fail_after(timeout):
        async with anyio.create_task_group() as tg:
            for _ in range(concurrency):
                tg.start_soon(worker)
    return latencies, errors, time.perf_counter() - started[0]


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("index_dir", type=Path)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("-k", type=int, default=8)
    parser.add_argument("--timeout", type=float, default=600, help="Seconds for startup and for the load")
    args = parser.parse_args()
    if not (args.index_dir / "CURRENT").exists():
        raise SystemExit(f"no index at {args.index_dir}: build one with `heprag --index DIR ingest PDFS`")
    token = secrets.token_urlsafe(16)
    proc, url, startup = start_server(args.index_dir, token, args.timeout)
    try:
        t0 = time.perf_counter()
        concurrency = min(args.concurrency, args.calls)
        latencies, errors, window = anyio.run(
            run_load, url, token, args.calls, concurrency, args.k, args.timeout
        )
        wall = time.perf_counter() - t0
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    rows = [
        ("server", url),
        ("startup (s)", f"{startup:.1f}"),
        ("calls / concurrent sessions", f"{args.calls} / {concurrency}"),
        ("ok / errors", f"{len(latencies)} / {len(errors)}"),
        ("wall incl. session setup (s)", f"{wall:.2f}"),
    ]
    if latencies:
        rows += [
            ("latency p50 (s)", f"{percentile(latencies, 50):.3f}"),
            ("latency p95 (s)", f"{percentile(latencies, 95):.3f}"),
            ("latency max (s)", f"{max(latencies):.3f}"),
            ("load window (s)", f"{window:.2f}"),
            ("throughput (calls/s)", f"{len(latencies) / window:.1f}"),
        ]
    width = max(len(name) for name, _ in rows)
    print("\n".join(f"{name:<{width}}  {value}" for name, value in rows))
    for error in errors[:10]:
        print("error:", error, file=sys.stderr)
    return 1 if errors or not latencies else 0


if __name__ == "__main__":
    sys.exit(main())
