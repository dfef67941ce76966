"""Moved to `heprag.app.generators.extractive`; kept so existing imports keep working."""

from __future__ import annotations

from heprag.app.generators.extractive import ExtractiveGenerator, display_sentence

__all__ = ["ExtractiveGenerator", "display_sentence"]
