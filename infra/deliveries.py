"""Deliveries to receivers outside bulkguard, recorded before they leave.

A stage records what it delivers (kind, reference, the item with its idempotency key) in the
transaction of the effect it reports; only after that commits is the item sent, and the row is
then confirmed. A database outage therefore sends nothing (the record cannot commit) instead of
sending a batch again on every retry. The one window left is between the sink's write and the
confirmation: a row left unconfirmed is sent again by the sweep, with the same idempotency key,
so the receiver can drop the duplicate.

A delivery is ``pending`` until the receiver takes it (``delivered``) or it ``failed``: the
receiver refused it for good (``DeliveryRefusedError``), or ``max_attempts`` attempts did not get
it through. A failed delivery is kept as a dead letter for an operator and is not tried again
until the operator asks (:func:`request_retry`, ``bulkguard deliveries retry``): it then waits as
``retry_requested``, untouched by the sweep, until a worker takes it (:func:`take_retries`) and
sends it through the sink it failed on, and through no other. The operator's shell never sends:
its own sink may be anything (a JSONL file on a laptop), not the platform's.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from infra import dead_letters
from infra.db.inserts import insert_ignore
from infra.db.models import AuditEvent, Delivery, utcnow
from infra.db.session import session_scope
from infra.sink_contract import DeliveryRefusedError, Sink
from infra.users import Actor

log = logging.getLogger(__name__)

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
# Failed, and asked by an operator to be sent again: waiting for a worker (not for the sweep,
# whose sink may differ from the one it failed on).
RETRY_REQUESTED = "retry_requested"
# The audit trail's name for a delivery (``AuditEvent.entity``).
ENTITY = "delivery"
# However many attempts have failed, an unconfirmed delivery is tried again at least this often:
# an action in force must reach the platform once the receiver is back.
LONGEST_WAIT = dt.timedelta(hours=1)
# Items per request in the sweep: a backlog goes out in bounded requests.
BATCH = 200
# What is kept of a failure's message: enough to say why, bounded whatever the receiver answered.
ERROR_CHARS = 500


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


def send(sink: Sink, kind: str, ref_ids: Sequence[int], *, max_attempts: int) -> int:
    """Send the pending deliveries of ``kind`` among ``ref_ids`` and confirm them; how many
    were sent. Call after the recording transaction committed."""
    if not ref_ids:
        return 0
    return _send_now(
        sink, (Delivery.kind == kind) & Delivery.ref_id.in_(list(ref_ids)), max_attempts
    )


def resend(sink: Sink, ids: Sequence[int], *, max_attempts: int) -> int:
    """Send the pending deliveries with these row ids (what :func:`take_retries` returns) and
    confirm them; how many were sent. Call after they were taken and that committed."""
    if not ids:
        return 0
    return _send_now(sink, Delivery.id.in_(list(ids)), max_attempts)


def sweep(
    session: Session,
    sink: Sink,
    kinds: Collection[str],
    *,
    retry_after: dt.timedelta,
    max_attempts: int,
    limit: int = 1000,
) -> int:
    """Send again the pending deliveries of ``kinds`` never confirmed: the sender died between
    commit and send, or the receiver failed. Each further attempt waits twice as long as the one
    before, up to :data:`LONGEST_WAIT`. Sent in batches of one kind; the first batch the receiver
    does not take ends the sweep, since the next ones would most likely wait out the same
    timeouts, and the task must finish within its time limit."""
    if isinstance(kinds, str):  # a string is a collection too: of letters, matching no kind
        raise TypeError(f"sweep takes a collection of kinds, not the one kind {kinds!r}")
    now = utcnow()
    last_tried = func.coalesce(Delivery.attempted_at, Delivery.recorded_at)
    candidates = session.scalars(
        select(Delivery)
        .where(
            Delivery.kind.in_(list(kinds)),
            _pending(),
            Delivery.recorded_at < now - retry_after,
        )
        # Least recently tried first: a backlog waiting out its backoff holds the limit for at
        # most LONGEST_WAIT, not until it is delivered, while newer rows are due behind it.
        .order_by(last_tried, Delivery.id)
        .limit(limit)
        # Two overlapping sweeps (a slow receiver) each take their own rows.
        .with_for_update(skip_locked=True)
    ).all()
    due = [
        row
        for row in candidates
        if (row.attempted_at or row.recorded_at)
        < now - min(LONGEST_WAIT, retry_after * (1 << min(row.attempts, 16)))
    ]
    sent = 0
    for kind in sorted({row.kind for row in due}):
        of_kind = [row for row in due if row.kind == kind]
        for start in range(0, len(of_kind), BATCH):
            tally = _attempt(session, sink, of_kind[start : start + BATCH], max_attempts)
            sent += tally.sent
            if tally.deferred:
                return sent
    return sent


def request_retry(
    session: Session,
    *,
    actor: Actor,
    kinds: Collection[str] | None = None,
    ids: Collection[int] | None = None,
) -> list[int]:
    """Mark the failed deliveries (of ``kinds``, among ``ids``: all when not given) to be sent
    again by a worker, with a fresh count of attempts, each audited as asked by ``actor``; their
    row ids. Nothing is sent here: the row keeps its sink, the one a worker must send it through,
    and its item, idempotency key and all. ``last_error`` is kept too: until the next attempt it
    says why the delivery had failed (the dead letter keeps that for good)."""
    query = select(Delivery).where(Delivery.status == FAILED).with_for_update()
    if kinds is not None:
        query = query.where(Delivery.kind.in_(list(kinds)))
    if ids is not None:
        query = query.where(Delivery.id.in_(list(ids)))
    rows = session.scalars(query.order_by(Delivery.id)).all()
    for row in rows:
        row.status, row.attempts = RETRY_REQUESTED, 0
        _audit(session, row, "retry_requested", actor, {"sink": row.sink, "failed": row.last_error})
    return [row.id for row in rows]


@dataclass(frozen=True)
class Taken:
    ids: list[int]  # back to pending: to resend once the session has committed
    refused: int  # failed again: recorded for another sink than this process's


def take_retries(
    session: Session, ids: Collection[int], sink: Sink | None, *, actor: Actor, no_sink: str = ""
) -> Taken:
    """Take the deliveries among ``ids`` still waiting for their requested retry: those that
    failed on ``sink`` go back to pending, to :func:`resend` once ``session`` has committed; the
    others fail again, with a dead letter whose reason says why they were not sent (``no_sink``,
    when this process has no usable sink). A delivery is sent again only through the sink it
    failed on: another one may not be the platform's at all."""
    rows = session.scalars(
        select(Delivery)
        .where(Delivery.id.in_(list(ids)), Delivery.status == RETRY_REQUESTED)
        .order_by(Delivery.id)
        .with_for_update()
    ).all()
    taken = []
    now = utcnow()
    for row in rows:
        if sink is not None and row.sink == str(sink):
            row.status = PENDING
            _audit(session, row, "retry_taken", actor, {"sink": row.sink})
            taken.append(row.id)
            continue
        if sink is None:
            why = no_sink or "this worker has no usable sink"
        else:
            why = (
                f"this worker sends to {sink}, not to {row.sink}, where the delivery failed; it "
                "is sent again only there"
            )
        reason = (
            f"retry refused: {why}, so retry it once the enforcement workers send to {row.sink}"
        )
        _audit(session, row, "retry_refused", actor, {"sink": row.sink, "reason": reason})
        _fail(session, row, reason, now)
    return Taken(taken, refused=len(rows) - len(taken))


def counts(session: Session) -> dict[tuple[str, str], int]:
    """How many deliveries there are of each (kind, status)."""
    return {
        (kind, status): n
        for kind, status, n in session.execute(
            select(Delivery.kind, Delivery.status, func.count())
            .group_by(Delivery.kind, Delivery.status)
            .order_by(Delivery.kind, Delivery.status)
        )
    }


def _pending() -> ColumnElement[bool]:
    # delivered_at IS NULL lets its index narrow the scan to the few rows not yet delivered;
    # the status picks the pending ones among them.
    return Delivery.delivered_at.is_(None) & (Delivery.status == PENDING)


def _send_now(sink: Sink, which: ColumnElement[bool], max_attempts: int) -> int:
    with session_scope() as session:
        rows = session.scalars(
            select(Delivery)
            .where(which, _pending())
            .order_by(Delivery.id)
            # Rows a sweep is sending now are left to it.
            .with_for_update(skip_locked=True)
        ).all()
        return _attempt(session, sink, rows, max_attempts).sent


@dataclass(frozen=True)
class _Tally:
    sent: int
    deferred: bool  # the receiver did not take a batch this time


def _attempt(session: Session, sink: Sink, rows: Sequence[Delivery], max_attempts: int) -> _Tally:
    if not rows:
        return _Tally(0, deferred=False)
    try:
        sink.deliver([r.item for r in rows if r.item is not None])
    except DeliveryRefusedError as exc:
        if len(rows) == 1:
            now = utcnow()
            _tried(rows[0], sink, now)
            _fail(session, rows[0], f"refused: {exc}", now)
            return _Tally(0, deferred=False)
        # One refused item must not take the others with it: halve the batch until the refused
        # items stand alone (a few extra requests for one bad item among many).
        half = len(rows) // 2
        first = _attempt(session, sink, rows[:half], max_attempts)
        if first.deferred:
            return first
        second = _attempt(session, sink, rows[half:], max_attempts)
        return _Tally(first.sent + second.sent, second.deferred)
    except Exception as exc:
        # Counted, and left for the sweep: the receiver may be back by then.
        log.warning("delivery of %d item(s) to %s failed: %s", len(rows), sink, exc)
        error = f"{type(exc).__name__}: {exc}"
        now = utcnow()
        for row in rows:
            _tried(row, sink, now)
            row.last_error = error[:ERROR_CHARS]
            if row.attempts >= max_attempts:
                _fail(session, row, f"not taken in {row.attempts} attempts; last: {error}", now)
        return _Tally(0, deferred=True)
    now = utcnow()
    for row in rows:
        _tried(row, sink, now)
        row.status, row.delivered_at = DELIVERED, now
    return _Tally(len(rows), deferred=False)


def _tried(row: Delivery, sink: Sink, now: dt.datetime) -> None:
    row.attempts += 1
    # The receiver last tried, which may differ from the one it was recorded for: the operator
    # can change the workers' sink, and the sweep sends pending rows through the one configured
    # now. A retry an operator asks for goes only through this one (take_retries).
    row.attempted_at, row.sink = now, str(sink)


def _fail(session: Session, row: Delivery, reason: str, now: dt.datetime) -> None:
    """Mark ``row`` failed and keep it as a dead letter: an operator decides what happens next."""
    row.status, row.last_error = FAILED, reason[:ERROR_CHARS]
    item = row.item or {}
    dead_letters.store(
        session,
        f"delivery.{row.kind}",
        # One dead letter per failure: a delivery retried and failed again is kept again.
        f"delivery-{row.id}@{now:%Y%m%dT%H%M%S.%f}",
        [
            dead_letters.Rejection(
                f"{reason} (delivery {row.id} to {row.sink}, {row.kind} {row.ref_id}; "
                "send it again with `bulkguard deliveries retry`)",
                item,
                account_id=str(item["account_id"]) if "account_id" in item else None,
            )
        ],
    )


def _audit(
    session: Session, row: Delivery, event: str, actor: Actor, details: dict[str, Any]
) -> None:
    """Append to the delivery's audit trail: who asked for what, and what became of it."""
    session.add(
        AuditEvent(
            entity=ENTITY,
            entity_id=row.id,
            event=event,
            details={"kind": row.kind, "ref_id": row.ref_id, **details},
            **actor.recorded(),
        )
    )
