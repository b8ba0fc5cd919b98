"""The transactional outbox: the next stage is published only after its justification commits.

A stage adds follow-up tasks to the outbox inside its own transaction. After the commit they are
published and marked; if the process dies in between, ``maintenance.sweep_outbox`` (beat)
publishes what is left. Publishing twice is harmless because every stage is idempotent, and the
dedupe key keeps a redelivered stage from queueing its follow-up twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

from celery import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from infra.db.models import OutboxMessage, utcnow
from infra.db.session import insert_ignore, session_scope

log = logging.getLogger(__name__)


def add(session: Session, task_name: str, kwargs: dict[str, Any], dedupe_key: str) -> str:
    """Queue ``task_name(**kwargs)`` for publication once ``session`` commits."""
    session.execute(
        insert_ignore(session, OutboxMessage),
        [{"dedupe_key": dedupe_key, "task_name": task_name, "kwargs": kwargs}],
    )
    return dedupe_key


def publish(dedupe_keys: Sequence[str]) -> int:
    """Publish the given outbox rows that are still unpublished (call after commit)."""
    if not dedupe_keys:
        return 0
    with session_scope() as session:
        rows = session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.dedupe_key.in_(dedupe_keys), OutboxMessage.published_at.is_(None)
            )
        ).all()
        return _send(session, rows)


def sweep(older_than: dt.timedelta, limit: int = 1000) -> int:
    """Publish rows whose publisher died between commit and publish."""
    with session_scope() as session:
        rows = session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.published_at.is_(None),
                OutboxMessage.created_at < utcnow() - older_than,
            )
            .order_by(OutboxMessage.id)
            .limit(limit)
        ).all()
        return _send(session, rows)


def _send(session: Session, rows: Sequence[OutboxMessage]) -> int:
    for row in rows:
        current_app.send_task(row.task_name, kwargs=row.kwargs)
        log.debug("published %s (%s)", row.task_name, row.dedupe_key)
    if rows:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_([r.id for r in rows]))
            .values(published_at=utcnow())
        )
    return len(rows)
