"""A local server speaking the OpenAI chat-completions wire format (JSON and SSE streaming), scripted.

Each request takes the next scripted reply: a completion text, a callable of the request body returning
one, or an `(http_status, message)` error. Requests are recorded so tests can inspect the real prompt.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = str | Callable[[dict[str, Any]], str] | tuple[int, str]


class ScriptedChat:
    """The script and the log shared by the handler threads."""

    def __init__(self, replies: list[Reply]) -> None:
        self.replies = list(replies)
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.url = ""

    def next_reply(self, body: dict[str, Any]) -> Reply:
        with self.lock:
            self.requests.append(body)
            if not self.replies:
                return (500, "the test script has no reply left")
            return self.replies.pop(0)


def _tokens(text: str) -> list[str]:
    """Word-ish fragments, as a tokenizer would stream them (whitespace kept with the next word)."""
    return re.findall(r"\s*\S+", text) or [text]


def _completion(model: str, text: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": len(_tokens(text)), "total_tokens": 1},
    }


def _chunks(model: str, text: str) -> Iterator[dict[str, Any]]:
    base = {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
    }
    yield {
        **base,
        "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}],
    }
    for token in _tokens(text):
        yield {**base, "choices": [{"index": 0, "delta": {"content": token}, "finish_reason": None}]}
    yield {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}


def _handler(chat: ScriptedChat) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet test output
            pass

        def _json(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._json(
                    404, {"error": {"message": f"no route {self.path}", "type": "invalid_request_error"}}
                )
                return
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            reply = chat.next_reply(body)
            if isinstance(reply, tuple):
                self._json(reply[0], {"error": {"message": reply[1], "type": "server_error", "code": None}})
                return
            text = reply(body) if callable(reply) else reply
            model = str(body.get("model", "test-model"))
            if not body.get("stream"):
                self._json(200, _completion(model, text))
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            for chunk in _chunks(model, text):
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()

    return Handler


@contextmanager
def openai_server(replies: list[Reply]) -> Iterator[ScriptedChat]:
    """Serve the script on 127.0.0.1 (a free port); `chat.url` is the base URL ending in /v1."""
    chat = ScriptedChat(replies)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(chat))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    chat.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    try:
        yield chat
    finally:
        server.shutdown()
        server.server_close()
