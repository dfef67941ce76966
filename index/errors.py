"""The heprag error hierarchy: every message names the file/document and the fix."""

from __future__ import annotations


class HepragError(Exception):
    """Base class of every error heprag raises on purpose."""


class ConfigError(HepragError):
    """A setting is missing, malformed or contradicts another."""


class ParseError(HepragError):
    """A source file could not be turned into a Document (corrupt, encrypted, empty...)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason

    def __reduce__(self) -> tuple[type[ParseError], tuple[str, str]]:  # picklable across processes
        return (type(self), (self.path, self.reason))


class IndexMissingError(HepragError):
    """No index exists where one was expected."""


class IndexMismatchError(HepragError):
    """The index was built with settings (e.g. embedding model) that differ from the current ones."""


class IndexCorruptError(HepragError):
    """The index files disagree with each other; run `heprag index verify` / `repair`."""


class LimitExceededError(HepragError):
    """An input exceeds a configured safety limit (size, pages, members, line length...)."""
