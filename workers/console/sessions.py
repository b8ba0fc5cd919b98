"""Console sessions kept server-side: started at login, looked up on every request, ended by
logout, by the idle and absolute timeouts, or when the user is disabled.

The browser holds a random key (signed, in an HttpOnly cookie); the table holds its SHA-256.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.orm import Session

from infra.db.models import ConsoleSession, User
from infra.users import end_console_sessions


@dataclass(frozen=True)
class Limits:
    idle: dt.timedelta
    absolute: dt.timedelta


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def start(session: Session, user: User, *, address: str, now: dt.datetime) -> str:
    """A new session for ``user``; its key, for the cookie."""
    key = secrets.token_urlsafe(32)
    session.add(
        ConsoleSession(
            id=_digest(key), user_id=user.id, address=address[:64], created_at=now, last_seen_at=now
        )
    )
    return key


def resume(
    session: Session, key: str, *, limits: Limits, now: dt.datetime
) -> tuple[ConsoleSession, User] | None:
    """The live session ``key`` names and its user, marked seen at ``now``; None when there is
    none, it ended, or it timed out (then ended here, with why)."""
    row = session.get(ConsoleSession, _digest(key))
    if row is None or row.ended_at is not None:
        return None
    user = session.get(User, row.user_id)
    why = None
    if user is None or user.disabled:
        why = "disabled"
    elif now - row.created_at > limits.absolute:
        why = "expired"
    elif now - row.last_seen_at > limits.idle:
        why = "idle"
    if why is not None or user is None:
        row.ended_at, row.ended_why = now, why
        return None
    row.last_seen_at = now
    return row, user


def end(session: Session, key: str, *, why: str, now: dt.datetime) -> None:
    session.execute(
        update(ConsoleSession)
        .where(ConsoleSession.id == _digest(key), ConsoleSession.ended_at.is_(None))
        .values(ended_at=now, ended_why=why)
    )


def end_all(session: Session, user_id: int, *, why: str, now: dt.datetime, keep: str = "") -> None:
    """End every session of a user (their password changed), but ``keep``'s."""
    end_console_sessions(session, user_id, why=why, now=now, keep_id=_digest(keep))
