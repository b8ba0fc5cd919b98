"""Retention on a real database (SQLite and PostgreSQL): what has expired goes in chunks, what
any hold keeps stays until the hold ends, and a run stopped halfway resumes to the same counts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from infra.db import partitions
from infra.db.models import (
    Account,
    AccountDecision,
    ApiIdempotency,
    Appeal,
    AppealRequest,
    Company,
    DeadLetter,
    Delivery,
    EnforcementAction,
    Evidence,
    Label,
    LegalNotice,
    RetentionRun,
    Score,
    SignalSnapshot,
    utcnow,
)
from infra.users import NotAllowedError
from tasks.retention import holds
from tasks.retention.policy import RetentionPolicyError, load, parse
from tasks.retention.run import run
from tests.people import person as user
from tests.retention_seed import LONG_AGO, person

POLICY = load()


def _exists(session: Session, model: type, **where: Any) -> bool:
    query = select(func.count()).select_from(model).filter_by(**where)
    return bool(session.scalar(query))


def test_the_policy_gives_every_class_a_period_and_a_reason() -> None:
    assert all(p.days >= 1 and len(p.reason) > 40 for p in POLICY.periods.values())
    assert POLICY["log_references"].enforced_by == "the log store"
    with pytest.raises(RetentionPolicyError, match="missing"):
        parse({"version": "x", "classes": {"labels": {"days": 1, "reason": "r"}}})


def test_expiry_respects_every_hold_until_it_ends(session: Session) -> None:
    admin = user(session, "keeper", "admin")
    now = utcnow()
    free = person(session, "free", "+421905000101", allowed_neighbour="allowed")
    in_force = person(session, "in-force", "+421905000201", status="active")
    reviewing = person(session, "reviewing", "+421905000301", action="review", status="pending")
    appealing = person(session, "appealing", "+421905000401", status="active")
    session.get_one(EnforcementAction, appealing.action_id).status = "expired"
    session.add(AppealRequest(action_id=appealing.action_id, statement="mine", filed_by="p"))
    cited = person(session, "cited", "+421905000501")
    company = Company(name="Acme", normalized_name="acme", origin_key="domain:acme.example")
    session.add(company)
    session.flush()
    notice = LegalNotice(
        reference="BG-1",
        company_id=company.id,
        policy_version="p",
        basis="b",
        status="sent",
        cited_evidence=[cited.evidence_id],
        activity_first=LONG_AGO,
        activity_last=LONG_AGO,
        body="letter",
        body_sha256="0" * 64,
    )
    session.add(notice)
    manual = person(session, "manual", "+421905000601")
    holds.hold(
        session, kind="account", ref="manual", reason="court order 7/2026", actor=admin, now=now
    )
    session.commit()

    report = run(session, POLICY, now=now)
    assert report.finished

    # The free account is gone everywhere, its allowed neighbour too.
    gone: list[tuple[type, dict[str, Any]]] = [
        (Account, {"account_id": "free"}),
        (Account, {"account_id": "allowed"}),
        (EnforcementAction, {"id": free.action_id}),
        (Score, {"id": free.score_id}),
        (Label, {"account_id": "free"}),
        (Delivery, {"ref_id": free.action_id}),
        (DeadLetter, {"account_id": "free"}),
        (Evidence, {"id": free.evidence_id}),
        (SignalSnapshot, {"id": free.snapshot_id}),
    ]
    for model, where in gone:
        assert not _exists(session, model, **where), (model, where)
    assert report.deleted["actions"] >= 1
    assert report.deleted["snapshots"] >= 1
    # Every hold kept its action, the score and record behind it, and the account.
    kept = [in_force, reviewing, appealing, cited, manual]
    for seeded in kept:
        assert _exists(session, EnforcementAction, id=seeded.action_id), seeded
        assert _exists(session, Score, id=seeded.score_id), seeded
        assert _exists(session, Account, account_id=seeded.account_id), seeded
        assert _exists(session, SignalSnapshot, id=seeded.snapshot_id), seeded
    assert _exists(session, Evidence, id=cited.evidence_id)
    assert _exists(session, Label, account_id="manual")
    assert _exists(session, DeadLetter, account_id="manual")

    # The holds end: the ban lifted, the appeal decided, the review dismissed, the notice
    # withdrawn, the person's hold released. The next run deletes what they kept.
    session.get_one(EnforcementAction, in_force.action_id).status = "expired"
    session.get_one(EnforcementAction, reviewing.action_id).status = "dismissed"
    appeal = Appeal(action_id=appealing.action_id, outcome="uphold", decided_by="r", reason="ok")
    session.add(appeal)
    session.flush()
    session.execute(
        AppealRequest.__table__.update().values(appeal_id=appeal.id)  # type: ignore[attr-defined]
    )
    notice.status = "withdrawn"
    holds.release(session, kind="account", ref="manual", reason="case closed", actor=admin, now=now)
    session.commit()
    assert run(session, POLICY, now=now).finished
    for seeded in kept:
        assert not _exists(session, EnforcementAction, id=seeded.action_id), seeded
        assert not _exists(session, Account, account_id=seeded.account_id), seeded
        assert not _exists(session, SignalSnapshot, id=seeded.snapshot_id), seeded


def test_a_dry_run_counts_and_deletes_nothing(session: Session) -> None:
    person(session, "dry", "+421905000701", allowed_neighbour="dry-allowed")
    session.commit()
    report = run(session, POLICY, now=utcnow(), dry_run=True)
    assert report.deleted["actions"] == 1
    assert report.deleted["allowed_decisions"] == 1
    assert report.deleted["dead_letters"] == 1
    assert _exists(session, EnforcementAction, account_id="dry")
    assert not session.scalar(select(func.count()).select_from(RetentionRun))


def test_a_run_stopped_halfway_resumes_and_finishes_with_the_same_counts(
    session: Session,
) -> None:
    now = utcnow()
    for i in range(4):
        person(session, f"a{i}", f"+42190500080{i}", allowed_neighbour=f"a{i}-ok")
    session.commit()
    whole = run(session, POLICY, now=now, chunk=2)
    assert whole.finished
    assert not whole.resumed

    for i in range(4):
        person(session, f"b{i}", f"+42190500090{i}", allowed_neighbour=f"b{i}-ok")
    session.commit()
    stopped = run(session, POLICY, now=now, chunk=2, max_chunks=3)
    assert not stopped.finished
    assert sum(stopped.deleted.values()) < sum(whole.deleted.values())
    # Later, with a later clock: the resumed run keeps the cut-off it started with.
    resumed = run(session, POLICY, now=now + dt.timedelta(hours=1), chunk=2)
    assert resumed.finished
    assert resumed.resumed
    assert resumed.run_id == stopped.run_id
    assert resumed.now == now
    assert resumed.deleted == whole.deleted
    assert not session.scalar(select(func.count()).select_from(Account))
    assert not session.scalar(select(func.count()).select_from(AccountDecision))


def test_a_hold_needs_an_admin_a_reason_and_something_to_hold(session: Session) -> None:
    admin = user(session, "keeper2", "admin")
    reviewer = user(session, "looker", "reviewer")
    now = utcnow()
    with pytest.raises(NotAllowedError):
        holds.hold(session, kind="account", ref="x", reason="r", actor=reviewer, now=now)
    with pytest.raises(holds.HoldError, match="no account"):
        holds.hold(session, kind="account", ref="nobody", reason="r", actor=admin, now=now)
    with pytest.raises(holds.HoldError, match="reason"):
        holds.hold(session, kind="action", ref="1", reason=" ", actor=admin, now=now)
    with pytest.raises(holds.HoldError, match="not on hold"):
        holds.release(session, kind="action", ref="1", reason="r", actor=admin, now=now)


def test_the_apis_kept_answers_go_after_a_day(session: Session) -> None:
    client = user(session, "upstream-1", "reviewer")
    now = utcnow()
    for key, age in (("old", dt.timedelta(days=2)), ("new", dt.timedelta(hours=1))):
        session.add(
            ApiIdempotency(
                user_id=client.user_id,
                idempotency_key=key,
                fingerprint="f",
                status=202,
                answer={"rejected": [{"index": 0, "account_id": f"acc-{key}"}]},
                created_at=now - age,
            )
        )
    session.commit()
    report = run(session, POLICY, now=now)
    assert report.deleted["api_answers"] == 1
    assert not _exists(session, ApiIdempotency, idempotency_key="old")
    assert _exists(session, ApiIdempotency, idempotency_key="new")


def test_postgresql_drops_expired_months_whole_and_keeps_a_month_with_a_hold(
    session: Session,
) -> None:
    if not partitions.is_partitioned(session):
        pytest.skip("SQLite does not partition: its chunks are the tests above")
    admin = user(session, "keeper3", "admin")
    now = utcnow()

    def history(prefix: str, free: dt.datetime, held: dt.datetime) -> None:
        """A free person in one month; in another, a person on hold and a free one."""
        person(
            session, f"{prefix}-free", "+421905001101", allowed_neighbour=f"{prefix}-ok", at=free
        )
        person(session, f"{prefix}-held", "+421905001201", at=held)
        person(session, f"{prefix}-other", "+421905001301", at=held)
        holds.hold(
            session,
            kind="account",
            ref=f"{prefix}-held",
            reason="court order",
            actor=admin,
            now=now,
        )
        # The content keys store_batch writes with each snapshot on PostgreSQL.
        session.execute(
            text(
                "INSERT INTO snapshot_keys SELECT content_hash, id, received_at "
                "FROM signal_snapshots WHERE content_hash NOT IN "
                "(SELECT content_hash FROM snapshot_keys)"
            )
        )
        session.commit()

    def stopped_and_resumed() -> dict[str, int]:
        # One chunk a run, each resumed by the next: a stop between any two chunks, the months'
        # drops among them, comes out as a run that never stopped.
        while not (report := run(session, POLICY, now=now, chunk=1, max_chunks=1)).finished:
            pass
        return report.deleted

    # The reference: months with no partition of their own (their rows are in the default
    # partitions), deleted in chunks.
    history(
        "chunked", dt.datetime(2018, 1, 10, tzinfo=dt.UTC), dt.datetime(2018, 3, 10, tzinfo=dt.UTC)
    )
    chunked = stopped_and_resumed()

    january, march = (dt.datetime(2019, m, 10, tzinfo=dt.UTC) for m in (1, 3))
    for month in (january, march):
        partitions.ensure_partitions(session, month, ahead=0)
    session.commit()
    history("dropped", january, march)
    assert _exists(session, SignalSnapshot, received_at=january)
    dropped = stopped_and_resumed()

    assert dropped == chunked
    assert dropped["snapshots"] == 2  # a month's free snapshot, and the other one's in March
    jan, mar = partitions.Month.of(january), partitions.Month.of(march)
    for table in partitions.PARTITIONED:
        assert not session.scalar(text(f"SELECT to_regclass('{jan.name(table)}') IS NOT NULL"))
        assert session.scalar(text(f"SELECT to_regclass('{mar.name(table)}') IS NOT NULL"))
    assert jan not in partitions.months(session)
    # March keeps its held person's snapshot, decisions and index entry; the other one's went.
    assert _exists(session, AccountDecision, account_id="dropped-held")
    assert not _exists(session, AccountDecision, account_id="dropped-other")
    assert not _exists(session, Account, account_id="dropped-free")
    held_snapshot = session.scalar(
        select(AccountDecision.snapshot_id).where(AccountDecision.account_id == "dropped-held")
    )
    assert session.scalar(
        text("SELECT tableoid::regclass::text FROM signal_snapshots WHERE id = :id"),
        {"id": held_snapshot},
    ) == mar.name("signal_snapshots")
    assert session.scalar(text("SELECT count(*) FROM snapshot_keys")) == 2  # the held ones
