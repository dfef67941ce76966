"""Untrusted text in a terminal, printed literally: document text never drives the terminal.

Passages, titles, paths, ids and error messages come from documents and users. Printed through Rich
as they are, `[/]` crashes the CLI with a MarkupError, `[bold red]` recolours it, `[link=file:///…]`
becomes a clickable link and `[fb]` vanishes from a quoted passage; escape sequences in the text
(`\\x1b[31m`, OSC-8 hyperlinks, cursor moves, carriage returns, bidi overrides) rewrite the screen.

`SafeConsole` is the only Console the CLI prints with: it never interprets markup or emoji codes in a
string and shows every control character as a visible escape (`\\x1b`, `\\r`, `\\u202e`). Colour is
given with `style=` or `tagged()`, never by formatting markup around untrusted values.
`SafeFormatter` does the same for log records written to a terminal.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from rich.console import Console
from rich.text import Text

# C0 controls but tab and newline, DEL, C1 controls (0x9b is a one-byte CSI), and the Unicode
# bidirectional overrides/isolates that can make a line read differently from what it holds.
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
NAMED = {"\r": "\\r", "\x0b": "\\v", "\x0c": "\\f", "\x08": "\\b", "\x07": "\\a", "\x00": "\\0"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def printable(text: object) -> str:
    """`text` with every control character (but newline and tab) shown as a visible escape."""
    return CONTROL.sub(_escape, str(text))


def literal(text: object, style: str = "") -> Text:
    """A Rich Text that shows `text` as it is: no markup, control characters escaped."""
    return Text(printable(text), style=style)


def tagged(tag: str, message: object, style: str = "red") -> Text:
    """`tag message` with only the (trusted) tag styled, e.g. tagged("error:", exc)."""
    return Text.assemble((tag, style), " ", literal(message))


class SafeConsole(Console):
    """A Console whose strings are always literal: markup and emoji off, control characters escaped.

    Text objects are printed as they are (build them with `literal` / `tagged` from untrusted text).
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.update(markup=False, emoji=False)
        kwargs.setdefault("highlight", False)
        super().__init__(**kwargs)

    def render_str(self, text: str, **kwargs: Any) -> Text:
        kwargs.update(markup=False, emoji=False)
        return super().render_str(printable(text), **kwargs)


class SafeFormatter(logging.Formatter):
    """A log formatter that escapes control characters in the message (paths and text from documents)."""

    def format(self, record: logging.LogRecord) -> str:
        return printable(super().format(record))


def configure_logging(level: int, fmt: str) -> None:
    """logging.basicConfig on stderr, with messages escaped by SafeFormatter."""
    handler = logging.StreamHandler()
    handler.setFormatter(SafeFormatter(fmt))
    logging.basicConfig(level=level, handlers=[handler])
