"""The transactional outbox: the next stage is published only after its justification commits.

A stage's follow-ups are written to the outbox inside its own transaction. After the commit they
are published and marked; if the process dies in between, ``maintenance.sweep_outbox`` (beat)
publishes what is left. Publishing twice is harmless because every stage is idempotent, and the
dedupe key keeps a redelivered stage from queueing its follow-up twice.

A row is done when its consumer's effect commits, not when the broker accepts the message: each
message carries its row's key in the :data:`HEADER` header, and the consumer marks the row
complete in the transaction that commits its effect or its dead letter. A broker that loses an
accepted message (a Redis restarted without persistence, a crash inside its fsync window) leaves
the row incomplete, and the sweep publishes it again after ``outbox_redeliver_seconds``, waiting
twice as long each time, until ``outbox_max_publications`` attempts have gone unanswered and the
message is kept as a dead letter instead. A broker known to have lost its memory has every
unfinished row published again at once (:func:`republish_unfinished`).

:func:`commit` runs a unit of work that sends follow-ups, for the task shells and the operator
CLI alike: its rows, dead letters and follow-ups in one transaction, then its side effects and
the publication of its follow-ups.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
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


HEADER = "bulkguard_outbox"


def complete(session: Session, dedupe_key: str | None, *, now: dt.datetime) -> None:
    """Mark the outbox row of the message being consumed done at ``now``, in the consumer's
    transaction."""
    if dedupe_key is not None:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.dedupe_key == dedupe_key, OutboxMessage.completed_at.is_(None))
            .values(completed_at=now)
        )


def publish(app: Publisher, dedupe_keys: Sequence[str], *, now: dt.datetime) -> int:
    """Publish the given outbox rows that are still unpublished (call after commit), marked
    published at ``now``."""
    if not dedupe_keys:
        return 0
    with session_scope() as session:
        rows = session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.dedupe_key.in_(dedupe_keys), OutboxMessage.published_at.is_(None)
            )
        ).all()
        return _send(app, session, rows, now)


@dataclass(frozen=True)
class Redelivery:
    """When the sweep sends a published but unfinished follow-up again."""

    after: dt.timedelta
    max_publications: int

    def due(self, publications: int) -> dt.timedelta:
        """How long after its last publication a row published ``publications`` times waits."""
        return self.after * (1 << max(0, publications - 1))


@dataclass(frozen=True)
class Swept:
    published: int  # never published: the publisher died between commit and publish
    republished: int  # published, but no consumer committed its effect
    abandoned: int  # published the maximum number of times without an effect: dead letters


def sweep(
    app: Publisher,
    session: Session,
    *,
    older_than: dt.timedelta,
    redelivery: Redelivery,
    now: dt.datetime,
    limit: int = 1000,
) -> Swept:
    """Publish rows left unpublished or unfinished at ``now``; marked in ``session``. Rows that
    used up their publications are kept as dead letters (replayable) and marked complete."""
    unpublished = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.published_at.is_(None), OutboxMessage.created_at < now - older_than)
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    # The first wait is the shortest: rows published more recently are not yet due.
    waiting = session.scalars(
        select(OutboxMessage)
        .where(
            OutboxMessage.completed_at.is_(None),
            OutboxMessage.published_at < now - redelivery.after,
        )
        .order_by(OutboxMessage.published_at)
        .limit(limit)
    ).all()
    due = [
        row
        for row in waiting
        if row.published_at is not None
        and row.published_at < now - redelivery.due(row.publications)
    ]
    abandoned = [row for row in due if row.publications >= redelivery.max_publications]
    if abandoned:
        _abandon(session, abandoned, now)
    again = [row for row in due if row.publications < redelivery.max_publications]
    for row in again:
        log.warning(
            "%s (%s) published %d time(s) without an effect: publishing again",
            row.task_name,
            row.dedupe_key,
            row.publications,
        )
    _send(app, session, [*unpublished, *again], now)
    return Swept(len(unpublished), len(again), len(abandoned))


def republish_unfinished(
    app: Publisher, session: Session, *, now: dt.datetime, deadline: float, chunk: int = 1000
) -> tuple[int, bool]:
    """After the broker lost its memory (``infra.broker_memory``): publish every published but
    unfinished row again now, whatever its redelivery wait, oldest first, in chunks, until none
    is left or the monotonic clock passes ``deadline``. How many were published, and whether
    that was all of them."""
    published, after = 0, 0
    while True:
        rows = session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.completed_at.is_(None),
                OutboxMessage.published_at.is_not(None),
                OutboxMessage.id > after,
            )
            .order_by(OutboxMessage.id)
            .limit(chunk)
        ).all()
        if not rows:
            return published, True
        published += _send(app, session, rows, now)
        after = rows[-1].id
        if time.monotonic() > deadline:
            return published, False


def _abandon(session: Session, rows: Sequence[OutboxMessage], now: dt.datetime) -> None:
    for row in rows:
        log.error(
            "%s (%s) published %d times without an effect: kept as a dead letter",
            row.task_name,
            row.dedupe_key,
            row.publications,
        )
        dead_letters.store(
            session,
            row.task_name,
            None,
            [
                dead_letters.Rejection(
                    f"follow-up {row.dedupe_key} was published {row.publications} times and no "
                    "consumer committed its effect (lost by the broker each time, or its worker "
                    "died before it could keep the input): replay it once the cause is fixed",
                    row.kwargs,
                    replay=row.kwargs,
                )
            ],
        )
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_([r.id for r in rows]))
        .values(completed_at=now)
    )


def _send(app: Publisher, session: Session, rows: Sequence[OutboxMessage], now: dt.datetime) -> int:
    for row in rows:
        app.send_task(row.task_name, kwargs=row.kwargs, headers={HEADER: row.dedupe_key})
        log.debug("published %s (%s)", row.task_name, row.dedupe_key)
    if rows:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_([r.id for r in rows]))
            .values(published_at=now, publications=OutboxMessage.publications + 1)
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
    completes: str | None = None,
) -> Committed:
    """Run ``work`` in one transaction with its dead letters and follow-ups, and the completion
    of the outbox row it consumes (``completes``); commit, then run its side effects and publish
    its follow-ups. Errors of ``work`` roll everything back and propagate; a failed side effect
    is logged, and a failed publication is returned, since the effects stand and the outbox
    sweep publishes what was left. The clock is read here, for the rows of each moment."""
    with session_scope() as session:
        outcome = work(session)
        if outcome.rejected:
            dead_letters.store(session, task_name, task_id, outcome.rejected)
        keys = add(session, outcome.follow_ups)
        complete(session, completes, now=utcnow())
    for effect in outcome.after_commit:
        try:
            effect()
        except Exception:
            log.exception("%s [%s] committed; a side effect failed", task_name, task_id)
    try:
        publish(app, keys, now=utcnow())
    except Exception as exc:
        return Committed(outcome, publish_error=exc)
    return Committed(outcome)
