"""Documents preserved whole: the bytes as received, addressed by their SHA-256, compressed.

A document is stored once however often it is seen; each sighting (an evidence row) points to
it. Bodies are bounded: beyond ``MAX_STORED_BYTES`` the first part is kept and the document says
it was truncated, while its hash and size remain those of everything received.
"""

from __future__ import annotations

import hashlib
import zlib

from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.db.inserts import insert_ignore_select
from infra.db.models import Document

MAX_STORED_BYTES = 5 * 1024 * 1024
CONTENT_TYPES = ("text/plain", "text/markdown", "text/html")


def preserve(session: Session, raw: bytes, content_type: str) -> int:
    """Keep ``raw`` (once); the document's id."""
    stored = raw[:MAX_STORED_BYTES]
    ids: list[int] = insert_ignore_select(
        session,
        Document,
        [
            {
                "sha256": hashlib.sha256(raw).hexdigest(),
                "content_type": content_type,
                "size": len(raw),
                "truncated": len(stored) < len(raw),
                "body": zlib.compress(stored, 6),
            }
        ],
        "sha256",
        Document.id,
    )
    return ids[0]


def document_bytes(session: Session, sha256: str) -> bytes | None:
    """The bytes kept of the document with this hash (all of them unless it was truncated)."""
    body = session.scalar(select(Document.body).where(Document.sha256 == sha256.lower()))
    return None if body is None else zlib.decompress(body)
