"""Where a database still names someone: every row of every table read back, its text and its
compressed documents (snapshots, preserved documents, dead letters' bodies) opened, and
searched for each needle."""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable

import zstandard
from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.db.models import Base

# The registry's model files: megabytes of trees, which no record reaches.
SKIPPED = {("model_versions", "artifact")}


def _text(value: object) -> str:
    if isinstance(value, bytes):
        for opened in (zstandard.ZstdDecompressor().decompress, zlib.decompress):
            try:
                return opened(value).decode(errors="replace")
            except (zstandard.ZstdError, zlib.error):
                continue
        return value.decode(errors="replace")
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def rows_mentioning(session: Session, needles: Iterable[str]) -> dict[str, list[str]]:
    """``table.column`` to the needles found there (with the row's first column)."""
    wanted = list(needles)
    found: dict[str, list[str]] = {}
    for table in Base.metadata.sorted_tables:
        columns = [c for c in table.columns if (table.name, c.name) not in SKIPPED]
        for row in session.execute(select(*columns)):
            for column, value in zip(columns, row, strict=True):
                if value is None:
                    continue
                text = _text(value)
                for needle in wanted:
                    if needle in text:
                        found.setdefault(f"{table.name}.{column.name}", []).append(
                            f"{needle} (row {row[0]})"
                        )
    return found
