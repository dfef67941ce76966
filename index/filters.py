"""Search filters usable by every retriever: year range, category, collaboration, source type, docs."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from heprag.index.types import SourceType


class SearchFilters(BaseModel):
    """Restricts a search to matching documents; empty fields do not filter."""

    model_config = ConfigDict(extra="forbid")

    year_min: int | None = Field(None, ge=0, le=9999, description="Earliest publication year, inclusive")
    year_max: int | None = Field(None, ge=0, le=9999, description="Latest publication year, inclusive")
    categories: list[str] = Field(default_factory=list, description="arXiv categories, any of, e.g. hep-ex")
    collaborations: list[str] = Field(default_factory=list, description="Any of, e.g. ATLAS, CMS")
    source_types: list[SourceType] = Field(default_factory=list, description="paper, logbook, note")
    doc_ids: list[str] = Field(default_factory=list, description="Only these documents")

    def is_empty(self) -> bool:
        return not any(
            [
                self.year_min,
                self.year_max,
                self.categories,
                self.collaborations,
                self.source_types,
                self.doc_ids,
            ]
        )

    def sql(self) -> tuple[str, list[Any]]:
        """A WHERE clause over the `documents` table (alias d) and its parameters."""
        clauses: list[str] = []
        params: list[Any] = []
        if self.year_min is not None:
            clauses.append("d.year >= ?")
            params.append(self.year_min)
        if self.year_max is not None:
            clauses.append("d.year <= ?")
            params.append(self.year_max)
        for column, values in (
            ("d.collaboration", [c.upper() for c in self.collaborations]),
            ("d.source_type", list(self.source_types)),
            ("d.doc_id", self.doc_ids),
        ):
            if values:
                func = "UPPER(d.collaboration)" if column == "d.collaboration" else column
                clauses.append(f"{func} IN ({','.join('?' * len(values))})")
                params.extend(values)
        if self.categories:
            ors = " OR ".join(
                "EXISTS (SELECT 1 FROM json_each(d.categories) WHERE value = ?)" for _ in self.categories
            )
            clauses.append(f"({ors})")
            params.extend(self.categories)
        return (" AND ".join(clauses) or "1"), params
