"""Batch literature summaries: cited topic reports with key numbers, a reading list and a timeline."""

from __future__ import annotations

from heprag.app.summaries.builder import build_report
from heprag.app.summaries.model import KeyNumber, Report, SelectedDocument, Tallies, TopicRequest
from heprag.app.summaries.report import render_html, render_markdown
from heprag.app.summaries.writer import write_report

__all__ = [
    "KeyNumber",
    "Report",
    "SelectedDocument",
    "Tallies",
    "TopicRequest",
    "build_report",
    "render_html",
    "render_markdown",
    "write_report",
]
