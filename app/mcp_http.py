"""`heprag mcp --http`: the MCP server over streamable HTTP, served by uvicorn.

Loopback (127.0.0.1) by default. Binding any other address needs a bearer token (`mcp.token`,
HEPRAG_MCP__TOKEN); with a token set, a request without `Authorization: Bearer <token>` gets 401.
Request bodies above `mcp.max_request_bytes` get 413.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import socket
import sys

import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

from heprag.app.library import Library
from heprag.app.mcp_server import build_server
from heprag.index.errors import ConfigError

log = logging.getLogger(__name__)
MCP_PATH = "/mcp"


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_exposure(host: str, token: str) -> None:
    """Refuse to serve a non-loopback address without a bearer token."""
    if not is_loopback(host) and not token:
        raise ConfigError(
            f"refusing to serve MCP on {host} without a bearer token: set HEPRAG_MCP__TOKEN "
            "(or [mcp] token in heprag.toml), or bind 127.0.0.1"
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
    app = http_app(library, host)
    config = uvicorn.Config(app, host=host, port=s.port if port is None else port, log_level="warning")
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
