"""A timeline plot of the report's documents by year (matplotlib PNG, one row per experiment)."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from heprag.index.types import Document

log = logging.getLogger(__name__)
_COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]


def timeline_png(documents: list[Document], path: Path, title: str = "") -> Path | None:
    """Write the plot to `path`; None when no document has a date (nothing to plot)."""
    dated = [d for d in documents if d.date is not None]
    if not dated:
        return None
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import MaxNLocator
    except ImportError:
        log.warning("matplotlib is not installed (pip install 'heprag[app]'); the report has no timeline")
        return None

    lanes = sorted({d.collaboration or "other" for d in dated})
    fig, ax = plt.subplots(figsize=(9, 1.4 + 0.7 * len(lanes)), dpi=110)
    try:
        for row, lane in enumerate(lanes):
            docs = sorted(
                (d for d in dated if (d.collaboration or "other") == lane),
                key=lambda d: d.date or dt.date.min,
            )
            xs = [d.date.year + (d.date.timetuple().tm_yday - 1) / 366 for d in docs]  # type: ignore[union-attr]
            ax.scatter(xs, [row] * len(xs), s=70, color=_COLOURS[row % len(_COLOURS)], zorder=3)
            for i, (x, doc) in enumerate(zip(xs, docs, strict=True)):
                label = (
                    doc.short_name.removeprefix(f"{doc.collaboration} ")
                    if doc.collaboration
                    else doc.short_name
                )
                ax.annotate(
                    label, (x, row), textcoords="offset points", xytext=(0, 9 if i % 2 == 0 else -15),
                    ha="center", fontsize=8,
                )  # fmt: skip
        years = [d.date.year for d in dated]  # type: ignore[union-attr]
        ax.set_xlim(min(years) - 0.5, max(years) + 1.5)
        ax.set_ylim(-0.8, len(lanes) - 0.2)
        ax.set_yticks(range(len(lanes)), lanes)
        ax.xaxis.set_major_locator(MaxNLocator(nbins="auto", steps=[1, 2, 2.5, 5, 10], integer=True))
        ax.grid(axis="x", alpha=0.3)
        ax.set_xlabel("publication date")
        ax.set_title(title or f"{len(dated)} documents by year", fontsize=10)
        fig.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path)
    finally:
        plt.close(fig)
    return path
