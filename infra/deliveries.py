"""Deliveries to receivers outside bulkguard, recorded before they leave.

A stage records what it delivers (kind, reference, the item with its idempotency key) in the
transaction of the effect it reports; only after that commits is the item sent, and the row is
then confirmed. A database outage therefore sends nothing (the record cannot commit) instead of
sending a batch again on every retry. The one window left is between the sink's write and the
confirmation: a row left unconfirmed is sent again by the sweep, with the same idempotency key,
so the receiver can drop the duplicate.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from infra.db.inserts import insert_ignore
from infra.db.models import Delivery, utcnow
from infra.db.session import session_scope
from infra.sinks import Sink

log = logging.getLogger(__name__)

# However many attempts have failed, an unconfirmed delivery is tried again at least this often:
# an action in force must reach the platform once the receiver is back.
LONGEST_WAIT = dt.timedelta(hours=1)


def record(
    session: Session, sink: Sink, kind: str, items: Mapping[int, dict[str, Any]]
) -> list[int]:
    """Record the ``items`` (by reference id) not yet recorded as ``kind``; the ids recorded
    now, to :func:`send` once ``session`` has committed."""
    known = set(
        session.scalars(
            select(Delivery.ref_id).where(Delivery.kind == kind, Delivery.ref_id.in_(list(items)))
        )
    )
    todo = [ref_id for ref_id in items if ref_id not in known]
    if todo:
        session.execute(
            insert_ignore(session, Delivery),
            [
                {"kind": kind, "ref_id": ref_id, "sink": str(sink), "item": items[ref_id]}
                for ref_id in todo
            ],
        )
    return todo


def send(sink: Sink, kind: str, ref_ids: Sequence[int]) -> int:
    """Send the recorded, unconfirmed deliveries among ``ref_ids`` and confirm them; how many
    were sent. Call after the recording transaction committed."""
    if not ref_ids:
        return 0
    with session_scope() as session:
        rows = session.scalars(
            select(Delivery).where(
                Delivery.kind == kind,
                Delivery.ref_id.in_(list(ref_ids)),
                Delivery.delivered_at.is_(None),
            )
        ).all()
        return _attempt(session, sink, rows)


def sweep(
    session: Session, sink: Sink, kind: str, retry_after: dt.timedelta, limit: int = 1000
) -> int:
    """Send again the deliveries of ``kind`` recorded but never confirmed: the sender died
    between commit and send, or the receiver failed. Each further attempt waits twice as long
    as the one before, up to :data:`LONGEST_WAIT`."""
    now = utcnow()
    candidates = session.scalars(
        select(Delivery)
        .where(
            Delivery.kind == kind,
            Delivery.delivered_at.is_(None),
            Delivery.recorded_at < now - retry_after,
        )
        .order_by(Delivery.id)
        .limit(limit)
    ).all()
    due = [
        row
        for row in candidates
        if (row.attempted_at or row.recorded_at)
        < now - min(LONGEST_WAIT, retry_after * (1 << min(row.attempts, 16)))
    ]
    return _attempt(session, sink, due)


def _attempt(session: Session, sink: Sink, rows: Sequence[Delivery]) -> int:
    if not rows:
        return 0
    ids = [r.id for r in rows]
    try:
        sink.deliver([r.item for r in rows if r.item is not None])
    except Exception:
        # Counted, and left for the sweep: the receiver may be back by then.
        log.exception("delivery of %d item(s) to %s failed; the sweep retries", len(rows), sink)
        session.execute(
            update(Delivery)
            .where(Delivery.id.in_(ids))
            .values(attempted_at=utcnow(), attempts=Delivery.attempts + 1)
        )
        return 0
    now = utcnow()
    session.execute(
        update(Delivery)
        .where(Delivery.id.in_(ids))
        .values(delivered_at=now, attempted_at=now, attempts=Delivery.attempts + 1)
    )
    return len(rows)
