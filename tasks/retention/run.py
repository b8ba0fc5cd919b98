"""A retention run: delete, class by class and in bounded chunks, what has outlived its period
and is not on hold (``tasks.retention.holds``).

Each chunk is its own short transaction, which also adds its count to the run's row
(:class:`~infra.db.models.RetentionRun`): no table is locked for long, and a run that is
killed is resumed by the next one, with the same cut-off, so that its counts come out as if it
had never stopped. A dry run counts what a run would delete now, and what it keeps on hold.

On PostgreSQL the large time-ordered tables (snapshots, decision batches, their per-account
index) are partitioned by month (``infra.db.partitions``): a month whose every snapshot has
expired and is free to go is dropped whole, in one short transaction that also counts its
snapshots, and a month that keeps one (a score or a hold refers to it) is left to the chunks,
which delete the others. SQLite deletes them in chunks.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, exists, func, not_, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, aliased

from infra.db import partitions
from infra.db.models import (
    Account,
    AccountCompanyLink,
    AccountDecision,
    ApiIdempotency,
    Appeal,
    AppealRequest,
    AuditEvent,
    DeadLetter,
    DecisionBatch,
    Delivery,
    Document,
    EnforcementAction,
    Evidence,
    EvidenceLink,
    EvidenceVerdict,
    Label,
    RetentionRun,
    ReviewClaim,
    Score,
    SignalSnapshot,
    utcnow,
)
from tasks.enforcement.deliver import PLATFORM_KINDS
from tasks.retention import holds as holding
from tasks.retention.policy import CLASSES, RetentionPolicy
from tasks.scoring.snapshot import blank_records

# Rows per chunk: a chunk's transaction takes milliseconds. Snapshots hold up to 10,000
# records each (~7 ms to rewrite one), so they go twenty at a time.
CHUNK = 1000
SNAPSHOT_CHUNK = 20


@dataclass(frozen=True)
class DataClass:
    """How one class of the policy is found and deleted."""

    name: str
    # The ids of rows of the class that have expired (cut-off given) and are not on hold.
    candidates: Callable[[dt.datetime, holding.Holds], Select[Any]]
    # The same, on hold included: what a dry run reports as kept.
    expired: Callable[[dt.datetime], Select[Any]]
    # Deletes the rows with these ids and what depends on them; how many rows of the class.
    remove: Callable[[Session, Sequence[Any], dt.datetime], int]
    chunk: int = CHUNK
    # Counts what ``remove`` would count, when that is not one per candidate.
    measure: Callable[[Session, Select[Any]], int] | None = None


@dataclass
class RetentionReport:
    run_id: int | None
    now: dt.datetime
    policy_version: str
    dry_run: bool
    finished: bool
    resumed: bool = False
    # Rows deleted per class (a dry run: that would be).
    deleted: dict[str, int] = field(default_factory=dict)
    # Expired rows kept because they are on hold (dry runs only; a run does not look).
    held: dict[str, int] = field(default_factory=dict)
    # Classes kept outside the database, and who deletes them.
    outside: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "now": self.now.isoformat(),
            "policy_version": self.policy_version,
            "dry_run": self.dry_run,
            "finished": self.finished,
            "resumed": self.resumed,
            "deleted": self.deleted,
            "held": self.held,
            "outside": self.outside,
        }


def run(
    session: Session,
    policy: RetentionPolicy,
    *,
    now: dt.datetime,
    dry_run: bool = False,
    max_chunks: int | None = None,
    until: float | None = None,
    chunk: int | None = None,
) -> RetentionReport:
    """One retention run (or the rest of one that stopped). ``max_chunks`` stops it after that
    many chunks, and ``until`` (a ``time.monotonic()`` deadline) once it has passed, unfinished,
    as a kill would: the next run resumes it. ``chunk`` caps every class's chunk size."""
    outside = {
        p.data_class: p.enforced_by for p in policy.periods.values() if p.enforced_by is not None
    }
    holds = holding.current(session)
    classes = [c for c in _classes() if policy[c.name].enforced_by is None]
    if dry_run:
        deleted, held = {}, {}
        for c in classes:
            cutoff = policy[c.name].cutoff(now)
            deleted[c.name] = _measure(session, c, c.candidates(cutoff, holds))
            held[c.name] = _count(session, c.expired(cutoff)) - _count(
                session, c.candidates(cutoff, holds)
            )
        session.rollback()
        return RetentionReport(
            None, now, policy.version, True, True, deleted=deleted, held=held, outside=outside
        )

    partitioned = partitions.is_partitioned(session)
    if partitioned:
        # The months ahead, before anything else: a run that stops later has still made them.
        # Their locks not coming in time is no reason to delete nothing: tomorrow's run makes
        # them, months before they are needed.
        try:
            partitions.ensure_partitions(session, now)
            session.commit()
        except OperationalError:
            session.rollback()
    record = session.scalar(
        select(RetentionRun).where(RetentionRun.finished_at.is_(None)).order_by(RetentionRun.id)
    )
    resumed = record is not None
    if record is None:
        record = RetentionRun(
            now=now, policy_version=policy.version, counts={c.name: 0 for c in classes}
        )
        session.add(record)
    session.commit()
    chunks = 0

    def stopping() -> bool:
        return (max_chunks is not None and chunks >= max_chunks) or (
            until is not None and time.monotonic() > until
        )

    for c in classes:
        cutoff = policy[c.name].cutoff(record.now)
        if partitioned and c.name == "snapshots":
            for _step in _drop_months(session, c, cutoff=cutoff, holds=holds, record=record):
                chunks += 1
                if stopping():
                    return _report(record, outside, resumed, finished=False)
        while True:
            if stopping():
                return _report(record, outside, resumed, finished=False)
            ids = [
                tuple(row) if len(row) > 1 else row[0]
                for row in session.execute(
                    c.candidates(cutoff, holds).limit(min(c.chunk, chunk or c.chunk))
                )
            ]
            if not ids:
                break
            removed = c.remove(session, ids, record.now)
            record.counts = {**record.counts, c.name: record.counts.get(c.name, 0) + removed}
            session.commit()
            chunks += 1
    record.finished_at = utcnow()
    session.commit()
    return _report(record, outside, resumed, finished=True)


def _drop_months(
    session: Session,
    c: DataClass,
    *,
    cutoff: dt.datetime,
    holds: holding.Holds,
    record: RetentionRun,
) -> Iterator[None]:
    """Drop the months that ended before ``cutoff`` and are free to go (``_drop_month``)."""
    for month in partitions.months(session):
        if month.end > cutoff:
            return
        yield from _drop_month(session, c, month, cutoff=cutoff, holds=holds, record=record)


def _drop_month(
    session: Session,
    c: DataClass,
    month: partitions.Month,
    *,
    cutoff: dt.datetime,
    holds: holding.Holds,
    record: RetentionRun,
) -> Iterator[None]:
    """Drop a month of snapshots, decision batches and index entries, all expired (the month
    ended before ``cutoff``), if every snapshot in it is a candidate of ``c`` (no score refers
    to it, no hold keeps it); yields after each committed chunk. The snapshots' content keys go
    first, in chunks; then one transaction locks the month's partitions, counts its snapshots
    again, drops them and adds the count to the run, as the chunks would have. A month that
    keeps a snapshot, or whose locks do not come in time, is left to the chunks."""
    in_month = (SignalSnapshot.received_at >= month.start) & (
        SignalSnapshot.received_at < month.end
    )

    def whole() -> int | None:
        total = _count(session, select(SignalSnapshot.id).where(in_month))
        free = _count(session, c.candidates(cutoff, holds).where(in_month))
        return total if free == total else None

    if whole() is None:
        session.rollback()
        return
    while partitions.forget_keys(session, month, CHUNK):
        session.commit()
        yield
    try:
        partitions.lock_month(session, month)
        total = whole()
        if total is None:
            session.rollback()
            return
        partitions.drop_month(session, month)
    except OperationalError:  # a lock that did not come in time: the next run tries again
        session.rollback()
        return
    record.counts = {**record.counts, c.name: record.counts.get(c.name, 0) + total}
    session.commit()
    yield


def _report(
    record: RetentionRun, outside: dict[str, str], resumed: bool, *, finished: bool
) -> RetentionReport:
    return RetentionReport(
        record.id,
        record.now,
        record.policy_version,
        dry_run=False,
        finished=finished,
        resumed=resumed,
        deleted=dict(record.counts),
        outside=outside,
    )


def _count(session: Session, query: Select[Any]) -> int:
    return session.scalar(select(func.count()).select_from(query.subquery())) or 0


def _measure(session: Session, c: DataClass, query: Select[Any]) -> int:
    return c.measure(session, query) if c.measure is not None else _count(session, query)


# -- the classes, in the order a run deletes them (tasks.retention.policy.CLASSES)


def _classes() -> list[DataClass]:
    found = [
        DataClass(
            "dead_letters", _dead_letters, lambda cut: _dead_letters(cut, None), _delete_dead
        ),
        DataClass("api_answers", _answers, lambda cut: _answers(cut, None), _delete_answers),
        DataClass(
            "deliveries", _deliveries, lambda cut: _deliveries(cut, None), _delete_deliveries
        ),
        DataClass("labels", _labels, lambda cut: _labels(cut, None), _delete_labels),
        DataClass("actions", _actions, lambda cut: _actions(cut, None), _delete_actions),
        DataClass("documents", _documents, lambda cut: _documents(cut, None), _delete_documents),
        DataClass("audit_events", _audit, lambda cut: _audit(cut, None), _delete_audit),
        DataClass(
            "allowed_decisions",
            _unpruned,
            lambda cut: _unpruned(cut, None),
            _prune,
            chunk=SNAPSHOT_CHUNK,
            measure=_allowed_in,
        ),
        DataClass(
            "snapshots",
            _snapshots,
            lambda cut: _snapshots(cut, None),
            _delete_snapshots,
            chunk=SNAPSHOT_CHUNK,
        ),
        DataClass("accounts", _accounts, lambda cut: _accounts(cut, None), _delete_accounts),
    ]
    assert [c.name for c in found] == [c for c in CLASSES if c != "log_references"]
    return found


def _unless(held: ColumnElement[bool] | None) -> list[ColumnElement[bool]]:
    return [] if held is None else [not_(held)]


def _dead_letters(cutoff: dt.datetime, holds: holding.Holds | None) -> Select[Any]:
    held = None if holds is None else holding.account_held(holds, DeadLetter.account_id)
    return (
        select(DeadLetter.id)
        .where(DeadLetter.created_at < cutoff, *_unless(held))
        .order_by(DeadLetter.id)
    )


def _delete_dead(session: Session, ids: Sequence[int], _now: dt.datetime) -> int:
    return _delete(session, DeadLetter, DeadLetter.id, ids)


def _answers(cutoff: dt.datetime, _holds: holding.Holds | None) -> Select[Any]:
    # A kept answer is a receipt, not evidence of anything: no hold reaches it.
    return (
        select(ApiIdempotency.id)
        .where(ApiIdempotency.created_at < cutoff)
        .order_by(ApiIdempotency.id)
    )


def _delete_answers(session: Session, ids: Sequence[int], _now: dt.datetime) -> int:
    return _delete(session, ApiIdempotency, ApiIdempotency.id, ids)


# Deliveries not yet taken (pending, failed, retry_requested) are work in progress, never expired.
FINISHED_DELIVERIES = ("delivered", "cancelled")


def _deliveries(cutoff: dt.datetime, holds: holding.Holds | None) -> Select[Any]:
    held = None
    if holds is not None:
        action = aliased(EnforcementAction)
        held = Delivery.kind.not_in(PLATFORM_KINDS) | exists().where(
            action.id == Delivery.ref_id, holding.action_held(holds, action)
        )
    return (
        select(Delivery.id)
        .where(
            Delivery.recorded_at < cutoff,
            Delivery.status.in_(FINISHED_DELIVERIES),
            *_unless(held),
        )
        .order_by(Delivery.id)
    )


def _delete_deliveries(session: Session, ids: Sequence[int], _now: dt.datetime) -> int:
    return _delete(session, Delivery, Delivery.id, ids)


# Audit events about rows that are still kept stay with them: they say who decided those.
def _audit(cutoff: dt.datetime, holds: holding.Holds | None) -> Select[Any]:
    held = None
    if holds is not None:
        held = (AuditEvent.entity == "enforcement_action") & exists().where(
            EnforcementAction.id == AuditEvent.entity_id
        ) | (AuditEvent.entity == "evidence") & exists().where(Evidence.id == AuditEvent.entity_id)
    return (
        select(AuditEvent.id).where(AuditEvent.at < cutoff, *_unless(held)).order_by(AuditEvent.id)
    )


def _delete_audit(session: Session, ids: Sequence[int], _now: dt.datetime) -> int:
    return _delete(session, AuditEvent, AuditEvent.id, ids)


def _labels(cutoff: dt.datetime, holds: holding.Holds | None) -> Select[Any]:
    held = None
    if holds is not None:
        action = aliased(EnforcementAction)
        held = exists().where(action.id == Label.action_id, holding.action_held(holds, action))
    return select(Label.id).where(Label.created_at < cutoff, *_unless(held)).order_by(Label.id)


def _delete_labels(session: Session, ids: Sequence[int], _now: dt.datetime) -> int:
    return _delete(session, Label, Label.id, ids)


def _actions(cutoff: dt.datetime, holds: holding.Holds | None) -> Select[Any]:
    # An action a person's decision refers to (the review it decided) goes after that decision.
    decision = aliased(EnforcementAction)
    held = None if holds is None else holding.action_held(holds)
    return (
        select(EnforcementAction.id)
        .where(
            EnforcementAction.created_at < cutoff,
            ~exists().where(decision.origin_id == EnforcementAction.id),
            *_unless(held),
        )
        .order_by(EnforcementAction.id)
    )


def _delete_actions(session: Session, ids: Sequence[int], _now: dt.datetime) -> int:
    return delete_actions(session, ids)


def delete_actions(session: Session, ids: Sequence[int]) -> int:
    """Delete actions with everything that refers to them (their review claims, appeals, labels,
    deliveries, the on-platform evidence of them) and the scores left without an action or a
    label; how many actions. Shared with a subject's erasure."""
    if not ids:
        return 0
    scores = set(
        session.scalars(select(EnforcementAction.score_id).where(EnforcementAction.id.in_(ids)))
    )
    _delete(session, ReviewClaim, ReviewClaim.review_id, ids)
    _delete(session, AppealRequest, AppealRequest.action_id, ids)
    _delete(session, Appeal, Appeal.action_id, ids)
    _delete(session, Label, Label.action_id, ids)
    session.execute(
        delete(Delivery).where(Delivery.kind.in_(PLATFORM_KINDS), Delivery.ref_id.in_(ids))
    )
    delete_evidence(
        session, list(session.scalars(select(Evidence.id).where(Evidence.action_id.in_(ids))))
    )
    removed = _delete(session, EnforcementAction, EnforcementAction.id, ids)
    delete_unreferenced_scores(session, sorted(scores))
    return removed


def delete_unreferenced_scores(session: Session, ids: Sequence[int]) -> int:
    """Delete those of the scores ``ids`` that no action and no label refers to."""
    if not ids:
        return 0
    result = session.execute(
        delete(Score).where(
            Score.id.in_(ids),
            # A person's decision on a review is on the review's score, and the review stays as
            # long as its decision: the automatic actions alone say whether a score is used, and
            # their unique index on the score answers it.
            ~exists().where(
                EnforcementAction.score_id == Score.id, EnforcementAction.origin_id.is_(None)
            ),
            ~exists().where(Label.score_id == Score.id),
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


def delete_evidence(session: Session, ids: Sequence[int]) -> int:
    """Delete pieces of evidence with their links and verdicts."""
    if not ids:
        return 0
    _delete(session, EvidenceVerdict, EvidenceVerdict.evidence_id, ids)
    _delete(session, AccountCompanyLink, AccountCompanyLink.evidence_id, ids)
    _delete(session, EvidenceLink, EvidenceLink.evidence_id, ids)
    return _delete(session, Evidence, Evidence.id, ids)


def _documents(cutoff: dt.datetime, holds: holding.Holds | None) -> Select[Any]:
    held = None
    if holds is not None:
        sighting = aliased(Evidence)
        held = exists().where(
            sighting.document_id == Document.id, holding.evidence_held(holds, sighting)
        )
    return (
        select(Document.id)
        .where(Document.created_at < cutoff, *_unless(held))
        .order_by(Document.id)
    )


def _delete_documents(session: Session, ids: Sequence[int], _now: dt.datetime) -> int:
    return delete_documents(session, ids)


def delete_documents(session: Session, ids: Sequence[int]) -> int:
    """Delete preserved documents with every sighting of them."""
    if not ids:
        return 0
    delete_evidence(
        session, list(session.scalars(select(Evidence.id).where(Evidence.document_id.in_(ids))))
    )
    return _delete(session, Document, Document.id, ids)


def _unpruned(cutoff: dt.datetime, holds: holding.Holds | None) -> Select[Any]:
    # A person's hold on an account does not stop a batch from being pruned: its records stay
    # (see _prune), and the batch is not looked at again.
    del holds
    return (
        select(SignalSnapshot.id)
        .where(SignalSnapshot.received_at < cutoff, SignalSnapshot.pruned_at.is_(None))
        .order_by(SignalSnapshot.id)
    )


def _allowed(snapshot_ids: Any) -> Select[Any]:
    """The per-account index entries of allowed decisions (no score at their position)."""
    return select(AccountDecision.account_id).where(
        AccountDecision.snapshot_id.in_(snapshot_ids),
        ~exists().where(
            Score.snapshot_id == AccountDecision.snapshot_id,
            Score.position == AccountDecision.position,
        ),
    )


def _allowed_in(session: Session, snapshots: Select[Any]) -> int:
    return _count(session, _allowed(snapshots.scalar_subquery()))


def _prune(session: Session, ids: Sequence[int], now: dt.datetime) -> int:
    """Blank the allowed accounts' records of these snapshots and drop their index entries:
    only the actioned records, which their actions are explained from, stay (and those of
    accounts a person put on hold)."""
    holds = holding.current(session)
    keep: dict[int, set[int]] = {i: set() for i in ids}
    for snapshot_id, position in session.execute(
        select(Score.snapshot_id, Score.position).where(Score.snapshot_id.in_(ids))
    ):
        keep[snapshot_id].add(position)
    if holds.accounts:
        for snapshot_id, position in session.execute(
            select(AccountDecision.snapshot_id, AccountDecision.position).where(
                AccountDecision.snapshot_id.in_(ids),
                holding.account_held(holds, AccountDecision.account_id),
            )
        ):
            keep[snapshot_id].add(position)
    blank_records(session, keep, keeping=True)
    result = session.execute(
        delete(AccountDecision)
        .where(
            AccountDecision.snapshot_id.in_(ids),
            ~exists().where(
                Score.snapshot_id == AccountDecision.snapshot_id,
                Score.position == AccountDecision.position,
            ),
            ~holding.account_held(holds, AccountDecision.account_id),
        )
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(SignalSnapshot)
        .where(SignalSnapshot.id.in_(ids))
        .values(pruned_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _snapshots(cutoff: dt.datetime, holds: holding.Holds | None) -> Select[Any]:
    held = None
    if holds is not None:
        held = exists().where(
            AccountDecision.snapshot_id == SignalSnapshot.id,
            holding.account_held(holds, AccountDecision.account_id),
        )
    return (
        select(SignalSnapshot.id)
        .where(
            SignalSnapshot.received_at < cutoff,
            ~exists().where(Score.snapshot_id == SignalSnapshot.id),
            *_unless(held),
        )
        .order_by(SignalSnapshot.id)
    )


def _delete_snapshots(session: Session, ids: Sequence[int], _now: dt.datetime) -> int:
    _delete(session, AccountDecision, AccountDecision.snapshot_id, ids)
    _delete(session, DecisionBatch, DecisionBatch.snapshot_id, ids)
    return _delete(session, SignalSnapshot, SignalSnapshot.id, ids)


def _accounts(cutoff: dt.datetime, holds: holding.Holds | None) -> Select[Any]:
    held = None if holds is None else holding.account_held(holds, Account.account_id)
    referenced = [
        exists().where(column == Account.account_id)
        for column in (
            AccountDecision.account_id,
            Score.account_id,
            EnforcementAction.account_id,
            Label.account_id,
            Evidence.account_id,
            AccountCompanyLink.account_id,
        )
    ]
    return (
        select(Account.account_id)
        .where(Account.first_seen_at < cutoff, *[~r for r in referenced], *_unless(held))
        .order_by(Account.account_id)
    )


def _delete_accounts(session: Session, ids: Sequence[str], _now: dt.datetime) -> int:
    return _delete(session, Account, Account.account_id, ids)


def _delete(session: Session, model: Any, column: Any, ids: Sequence[Any]) -> int:
    if not ids:
        return 0
    result = session.execute(
        delete(model).where(column.in_(ids)).execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
