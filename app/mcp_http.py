"""`heprag mcp --http`: the MCP server over streamable HTTP, served by uvicorn.

Loopback (127.0.0.1) by default. Binding any other address needs a bearer token (`mcp.token`,
HEPRAG_MCP__TOKEN) of at least 16 random characters; with a token set, a request without
`Authorization: Bearer <token>` gets 401. Request bodies above `mcp.max_request_bytes` get 413.

Slow and greedy clients cannot starve the others (`ConnectionGuard`): a request's headers, and then
its body, must arrive within `mcp.read_timeout_s` (else 408 and the connection is closed), and one
client address holds at most `mcp.max_connections_per_client` connections (more get 503 at once).
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import json
import logging
import resource
import socket
import sys
from collections import Counter
from typing import Any

import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.auto import AutoHTTPProtocol
from uvicorn.protocols.utils import get_remote_addr

from heprag.app.library import Library
from heprag.app.mcp_server import build_server
from heprag.index.errors import ConfigError

log = logging.getLogger(__name__)
MCP_PATH = "/mcp"
MIN_TOKEN_CHARS = 16
MIN_TOKEN_DISTINCT = 5  # "aaaaaaaaaaaaaaaa" and "abababab..." are not secrets
MAKE_TOKEN = 'HEPRAG_MCP__TOKEN=$(python -c "import secrets; print(secrets.token_urlsafe(24))")'


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_exposure(host: str, token: str) -> None:
    """Refuse to serve a non-loopback address without a bearer token, or with a guessable one."""
    if is_loopback(host):
        return
    if not token:
        raise ConfigError(
            f"refusing to serve MCP on {host} without a bearer token: set HEPRAG_MCP__TOKEN "
            f"(or [mcp] token in heprag.toml), e.g. {MAKE_TOKEN}, or bind 127.0.0.1"
        )
    if len(token) < MIN_TOKEN_CHARS or len(set(token)) < MIN_TOKEN_DISTINCT:
        raise ConfigError(
            f"refusing to serve MCP on {host} with a weak bearer token ({len(token)} characters, "
            f"{len(set(token))} distinct): use at least {MIN_TOKEN_CHARS} random characters, "
            f"e.g. {MAKE_TOKEN}"
        )


class BearerAuth:
    """ASGI middleware: HTTP requests must carry `Authorization: Bearer <token>` (else 401)."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            given = dict(scope.get("headers") or []).get(b"authorization", b"")
            if not hmac.compare_digest(given, self.expected):
                await _reject(send, 401, "missing or wrong bearer token", {"www-authenticate": "Bearer"})
                return
        await self.app(scope, receive, send)


async def _reject(send: Send, status: int, message: str, headers: dict[str, str]) -> None:
    body = json.dumps({"error": message}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class ConnectionGuard:
    """Bounds what one client can hold: read deadlines per request and open connections per address.

    `protocol()` is the uvicorn HTTP protocol (h11 or httptools, whichever uvicorn picks) with a timer:
    armed when a connection opens and again after each response, it closes a connection whose next
    request headers have not all arrived in time. `wrap(app)` is the ASGI side: it disarms the timer
    once the headers are in (the request reached the app), gives the body the same time to arrive,
    and re-arms the timer when the response is complete. A long streamed response is never cut.
    """

    def __init__(self, read_timeout_s: float, max_per_client: int) -> None:
        self.read_timeout_s = read_timeout_s
        self.max_per_client = max_per_client
        self.per_client: Counter[str] = Counter()
        self.open: dict[tuple[str, int], Any] = {}  # peer (host, port) -> its protocol instance

    def protocol(self, base: type[asyncio.Protocol] = AutoHTTPProtocol) -> type[asyncio.Protocol]:
        guard = self

        class GuardedProtocol(base):  # type: ignore[valid-type, misc]
            guard_timer: asyncio.TimerHandle | None = None
            guard_peer: tuple[str, int] | None = None
            guard_bytes = 0  # received since the timer was armed

            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                super().connection_made(transport)
                self.guard_transport = transport
                self.guard_peer = get_remote_addr(transport)  # type: ignore[arg-type]
                host = self.guard_peer[0] if self.guard_peer else ""
                guard.per_client[host] += 1
                if self.guard_peer:
                    guard.open[self.guard_peer] = self
                if guard.per_client[host] > guard.max_per_client:
                    log.info("refused a connection from %s: %d open already", host, guard.max_per_client)
                    transport.write(_raw_response(503, "too many connections from this client"))  # type: ignore[attr-defined]
                    transport.close()
                    return
                self.guard_arm()

            def data_received(self, data: bytes) -> None:
                self.guard_bytes += len(data)
                super().data_received(data)

            def connection_lost(self, exc: Exception | None) -> None:
                self.guard_disarm()
                host = self.guard_peer[0] if self.guard_peer else ""
                guard.per_client[host] -= 1
                if guard.per_client[host] <= 0:
                    del guard.per_client[host]
                if self.guard_peer and guard.open.get(self.guard_peer) is self:
                    del guard.open[self.guard_peer]
                super().connection_lost(exc)

            def guard_arm(self) -> None:
                self.guard_disarm()
                self.guard_bytes = 0
                loop = asyncio.get_running_loop()
                self.guard_timer = loop.call_later(guard.read_timeout_s, self.guard_expire)

            def guard_disarm(self) -> None:
                if self.guard_timer is not None:
                    self.guard_timer.cancel()
                    self.guard_timer = None

            def guard_expire(self) -> None:
                self.guard_timer = None
                transport = self.guard_transport
                if not transport.is_closing():
                    if self.guard_bytes:  # a request was begun: say why it ends; an idle one just closes
                        transport.write(_raw_response(408, "request headers not received in time"))  # type: ignore[attr-defined]
                    transport.close()

        return GuardedProtocol

    def wrap(self, app: ASGIApp) -> ASGIApp:
        guard = self

        async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            peer = scope.get("client")
            conn = guard.open.get(tuple(peer)) if peer else None
            if conn is not None:
                conn.guard_disarm()  # the headers are in
            loop = asyncio.get_running_loop()
            deadline = loop.time() + guard.read_timeout_s
            body_done = responding = False

            async def bounded_receive() -> Message:
                nonlocal body_done
                if body_done:  # later receives wait for a disconnect (streaming): never bounded
                    return await receive()
                try:
                    message = await asyncio.wait_for(receive(), max(deadline - loop.time(), 0.001))
                except TimeoutError:
                    log.info("closed a connection from %s: request body not received in time", peer)
                    if conn is not None:
                        if not responding:
                            conn.guard_transport.write(
                                _raw_response(408, "request body not received in time")
                            )
                        conn.guard_transport.close()
                    return {"type": "http.disconnect"}
                body_done = message["type"] != "http.request" or not message.get("more_body", False)
                return message

            async def rearming_send(message: Message) -> None:
                nonlocal responding
                responding = True
                await send(message)
                finished = message["type"] == "http.response.body" and not message.get("more_body", False)
                if finished and conn is not None and not conn.guard_transport.is_closing():
                    conn.guard_arm()  # the next request on this connection gets its own deadline

            await app(scope, bounded_receive, rearming_send)

        return guarded


def _raise_file_limit(most: int = 65536) -> None:
    """Every connection costs a file descriptor: use what the hard limit allows (often 1024 -> 524288)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = most if hard == resource.RLIM_INFINITY else min(hard, most)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        except (ValueError, OSError):
            log.debug("could not raise the open-file limit from %d", soft)


def _raw_response(status: int, message: str) -> bytes:
    reason = {408: "Request Timeout", 503: "Service Unavailable"}[status]
    body = json.dumps({"error": message}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode() + body


def http_app(library: Library, host: str | None = None) -> ASGIApp:
    """The ASGI app: the SDK's streamable-HTTP app at /mcp, behind the token check when one is set."""
    s = library.settings.mcp
    host = host or s.host
    token = s.token.get_secret_value()
    check_exposure(host, token)
    app: ASGIApp = build_server(library).streamable_http_app(
        streamable_http_path=MCP_PATH, max_request_body_size=s.max_request_bytes, host=host
    )
    return BearerAuth(app, token) if token else app


def serve_http(library: Library, host: str | None = None, port: int | None = None) -> None:
    """Serve until interrupted; prints the URL on stderr once listening."""
    s = library.settings.mcp
    host = host or s.host
    check_exposure(host, s.token.get_secret_value())  # before the model loads: fail fast
    _raise_file_limit()
    guard = ConnectionGuard(s.read_timeout_s, s.max_connections_per_client)
    app = guard.wrap(http_app(library, host))
    config = uvicorn.Config(
        app, host=host, port=s.port if port is None else port, log_level="warning", http=guard.protocol()
    )
    _AnnouncingServer(config).run()


class _AnnouncingServer(uvicorn.Server):
    """Prints `heprag MCP server listening on http://HOST:PORT/mcp` on stderr (the real port, also for 0)."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        for server in self.servers:
            for sock in server.sockets:
                host, port = sock.getsockname()[:2]
                shown = f"[{host}]" if ":" in host else host
                print(
                    f"heprag MCP server listening on http://{shown}:{port}{MCP_PATH}",
                    file=sys.stderr,
                    flush=True,
                )
