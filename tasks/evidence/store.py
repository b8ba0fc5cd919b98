"""Evidence rows, written one way whatever their source.

An item's ``key`` is what makes it itself (a document's source, URL, observation time and text;
a ban's action id); its SHA-256 is the row's content hash, the natural key that makes storing the
same evidence twice a no-op.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from infra.db.inserts import insert_ignore_select
from infra.db.models import Evidence


@dataclass(frozen=True)
class NewEvidence:
    key: str
    source: str  # on_platform | off_platform
    kind: str
    observed_at: dt.datetime
    url: str | None
    account_id: str | None
    claims_bulk: bool
    excerpt: str
    indicators: dict[str, Any]
    document_id: int | None = None
    submitted_by: str | None = None
    action_id: int | None = None  # the ban an on-platform item is evidence of

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.key.encode()).hexdigest()

    def row(self) -> dict[str, Any]:
        return {
            "content_hash": self.content_hash,
            "source": self.source,
            "kind": self.kind,
            "observed_at": self.observed_at,
            "url": self.url,
            "account_id": self.account_id,
            "claims_bulk": self.claims_bulk,
            "excerpt": self.excerpt,
            "indicators": self.indicators,
            "document_id": self.document_id,
            "submitted_by": self.submitted_by,
            "action_id": self.action_id,
        }


def store(session: Session, items: Sequence[NewEvidence]) -> list[int]:
    """Store ``items`` (each once, however often it arrives); their evidence ids, ascending."""
    ids = insert_ignore_select(
        session, Evidence, [item.row() for item in items], "content_hash", Evidence.id
    )
    return sorted(ids)
