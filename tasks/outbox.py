"""The transactional outbox: the next stage is published only after its justification commits.

A stage's follow-ups are written to the outbox inside its own transaction. After the commit they
are published and marked; if the process dies in between, ``maintenance.sweep_outbox`` (beat)
publishes what is left. Publishing twice is harmless because every stage is idempotent, and the
dedupe key keeps a redelivered stage from queueing its follow-up twice.

:func:`commit` runs a unit of work that sends follow-ups, for the task shells and the operator
CLI alike: its rows, dead letters and follow-ups in one transaction, then its side effects and
the publication of its follow-ups.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from infra import dead_letters
from infra.db.inserts import insert_ignore
from infra.db.models import OutboxMessage, utcnow
from infra.db.session import session_scope
from tasks.messages import FollowUp, Publisher
from tasks.outcome import Outcome

log = logging.getLogger(__name__)


def add(session: Session, follow_ups: Sequence[FollowUp]) -> list[str]:
    """Queue ``follow_ups`` for publication once ``session`` commits; their dedupe keys."""
    if follow_ups:
        session.execute(
            insert_ignore(session, OutboxMessage),
            [
                {
                    "dedupe_key": f.dedupe_key,
                    "task_name": f.message.TASK,
                    "kwargs": f.message.kwargs(),
                }
                for f in follow_ups
            ],
        )
    return [f.dedupe_key for f in follow_ups]


def publish(app: Publisher, dedupe_keys: Sequence[str]) -> int:
    """Publish the given outbox rows that are still unpublished (call after commit)."""
    if not dedupe_keys:
        return 0
    with session_scope() as session:
        rows = session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.dedupe_key.in_(dedupe_keys), OutboxMessage.published_at.is_(None)
            )
        ).all()
        return _send(app, session, rows)


def sweep(app: Publisher, session: Session, older_than: dt.timedelta, limit: int = 1000) -> int:
    """Publish rows whose publisher died between commit and publish; marked in ``session``."""
    rows = session.scalars(
        select(OutboxMessage)
        .where(
            OutboxMessage.published_at.is_(None),
            OutboxMessage.created_at < utcnow() - older_than,
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    return _send(app, session, rows)


def _send(app: Publisher, session: Session, rows: Sequence[OutboxMessage]) -> int:
    for row in rows:
        app.send_task(row.task_name, kwargs=row.kwargs)
        log.debug("published %s (%s)", row.task_name, row.dedupe_key)
    if rows:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_([r.id for r in rows]))
            .values(published_at=utcnow())
        )
    return len(rows)


@dataclass(frozen=True)
class Committed:
    outcome: Outcome
    # Why the follow-ups could not be published now: they wait in the outbox for the sweep.
    publish_error: Exception | None = None


def commit(
    app: Publisher,
    work: Callable[[Session], Outcome],
    *,
    task_name: str,
    task_id: str | None,
) -> Committed:
    """Run ``work`` in one transaction with its dead letters and follow-ups, commit, then run
    its side effects and publish its follow-ups. Errors of ``work`` roll everything back and
    propagate; a failed side effect is logged, and a failed publication is returned, since the
    effects stand and the outbox sweep publishes what was left."""
    with session_scope() as session:
        outcome = work(session)
        if outcome.rejected:
            dead_letters.store(session, task_name, task_id, outcome.rejected)
        keys = add(session, outcome.follow_ups)
    for effect in outcome.after_commit:
        try:
            effect()
        except Exception:
            log.exception("%s [%s] committed; a side effect failed", task_name, task_id)
    try:
        publish(app, keys)
    except Exception as exc:
        return Committed(outcome, publish_error=exc)
    return Committed(outcome)
