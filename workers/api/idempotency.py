"""``Idempotency-Key``: a request sent again with the key of one already answered gets the first
answer back, and nothing is enqueued twice. The answer is kept in the database, in the same
transaction as the work it answers for, so an answer exists exactly when the work is durable;
two copies racing each other meet at the unique key and the loser returns the winner's answer."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from infra.db.models import ApiIdempotency
from workers.api.errors import ApiError

MAX_KEY_LENGTH = 200


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]


def fingerprint(method: str, path: str, body: bytes) -> str:
    """What a key was first used for: a key reused for different work is refused."""
    return hashlib.sha256(f"{method} {path}\n".encode() + body).hexdigest()


def checked_key(value: str | None) -> str | None:
    if value is None:
        return None
    if not 1 <= len(value) <= MAX_KEY_LENGTH or not value.isprintable() or not value.isascii():
        raise ApiError(400, f"Idempotency-Key is 1-{MAX_KEY_LENGTH} printable ASCII characters")
    return value


def earlier(
    session: Session,
    user_id: int,
    key: str,
    fingerprint_: str,
    *,
    now: dt.datetime,
    keep: dt.timedelta,
) -> Answer | None:
    """The first answer given to this client's ``key`` within ``keep``, or None. Answers kept
    longer are forgotten first, so an old key may be used afresh."""
    forget_expired(session, now=now, keep=keep)
    row = session.scalar(
        select(ApiIdempotency).where(
            ApiIdempotency.user_id == user_id, ApiIdempotency.idempotency_key == key
        )
    )
    if row is None:
        return None
    if row.fingerprint != fingerprint_:
        raise ApiError(
            422, "this Idempotency-Key was first used for a different request: use a new key"
        )
    return Answer(row.status, row.answer)


def remember(
    session: Session,
    user_id: int,
    key: str,
    fingerprint_: str,
    answer: Answer,
    *,
    now: dt.datetime,
) -> None:
    """Keep ``answer`` for ``key``; flushed now, so a concurrent twin fails here, before commit."""
    session.add(
        ApiIdempotency(
            user_id=user_id,
            idempotency_key=key,
            fingerprint=fingerprint_,
            status=answer.status,
            answer=answer.body,
            created_at=now,
        )
    )
    session.flush()


def forget_expired(session: Session, *, now: dt.datetime, keep: dt.timedelta) -> int:
    """Remove every client's answers older than ``keep``."""
    result = session.execute(delete(ApiIdempotency).where(ApiIdempotency.created_at < now - keep))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
