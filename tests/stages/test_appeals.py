"""Appeals on a real database (SQLite and PostgreSQL): an overturn undoes what the action
caused, an uphold is recorded, each is a label, and an appeal decides once."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from msgspec.structs import replace
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from infra.db.models import (
    Account,
    Appeal,
    AuditEvent,
    Delivery,
    EnforcementAction,
    Label,
    utcnow,
)
from infra.db.session import session_scope
from infra.sinks import JsonlSink
from infra.users import Actor
from tasks.accounts.signals import DetectionPoint
from tasks.enforcement.appeals import AppealError, decide_appeal
from tasks.enforcement.deliver import (
    PLATFORM_ACTION,
    PLATFORM_LIFT,
    deliver_actions,
    owed_lifts,
    request_retries,
    retry_deliveries,
)
from tasks.enforcement.enforce import scored_records
from tasks.messages import DeliverActions, RetryDeliveries
from tasks.neighbourhoods.memory import MemoryNeighbourStore
from tasks.scoring.model import Scorer
from tests.people import person
from tests.records import messaging_accounts
from tests.seed import account_status, enforced
from tests.stages.test_enforcement_body import apply, scored
from tests.stores.test_deliveries import PickySink


def overturn(session: Session, action_id: int, neighbours: MemoryNeighbourStore | None = None):
    return decide_appeal(
        session,
        action_id,
        outcome="overturn",
        actor=person(session, "agent-7", "reviewer"),
        reason="family business, verified",
        neighbours=neighbours or MemoryNeighbourStore(),
        now=utcnow(),
    )


def count(session: Session, model: object) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0  # type: ignore[arg-type]


def test_an_overturned_ban_is_lifted_everywhere(
    session: Session, scorer: Scorer, tmp_path: Path
) -> None:
    batch = scored(session, scorer, messaging_accounts(150))
    neighbours = MemoryNeighbourStore()
    applied = apply(session, scorer, batch.request, neighbours=neighbours)
    for effect in applied.after_commit:
        effect()
    ban = session.scalars(
        select(EnforcementAction).where(
            EnforcementAction.action == "ban", EnforcementAction.status == "active"
        )
    ).first()
    assert ban is not None
    sink = JsonlSink(tmp_path / "platform.jsonl")
    deliver_actions(
        session, DeliverActions(action_ids=[ban.id]), sink=sink, max_attempts=8, now=utcnow()
    )
    (record,) = scored_records(session, [ban]).values()
    # Another account registered in the same block, network and device.
    neighbour = replace(record, account_id="neighbour-1")
    neighbours.observe([record, neighbour], DetectionPoint.REGISTRATION)
    rates_before = neighbours.lookup([record])[0][[0, 2, 4]]
    assert list(rates_before) == [0.5, 0.5, 0.5]  # one of two accounts banned: this one

    outcome = overturn(session, ban.id, neighbours)

    assert ban.status == "reversed"
    assert (ban.reversed_by, ban.reversal_reason) == ("agent-7", "family business, verified")
    assert session.get_one(Account, ban.account_id).status == "active"
    assert outcome.summary["account_status"] == "active"
    # Out of the neighbourhood rates once committed.
    assert list(neighbours.lookup([record])[0][[0, 2, 4]]) == [0.5, 0.5, 0.5]
    for effect in outcome.after_commit:
        effect()
    assert list(neighbours.lookup([record])[0][[0, 2, 4]]) == [0.0, 0.0, 0.0]
    # The platform is told to lift it.
    lift = next(f for f in outcome.follow_ups if isinstance(f.message, DeliverActions))
    assert lift.dedupe_key == f"enforcement.deliver:lift:appeal:{ban.id}"
    delivered = deliver_actions(session, lift.message, sink=sink, max_attempts=8, now=utcnow())
    assert delivered.summary == {"recorded": 1}
    row = session.scalars(select(Delivery).where(Delivery.kind == PLATFORM_LIFT)).one()
    assert row.ref_id == ban.id
    assert row.item is not None
    assert (row.item["event"], row.item["idempotency_key"], row.item["reason"]) == (
        "lift",
        f"lift-{ban.id}",
        "reversed",
    )
    # A label for training, and the decision kept.
    label = session.scalars(select(Label)).one()
    assert (label.account_id, label.score_id, label.abusive, label.source) == (
        ban.account_id,
        ban.score_id,
        False,
        "appeal",
    )
    assert session.scalars(select(Appeal)).one().outcome == "overturn"


def test_a_lift_is_owed_only_for_what_the_platform_was_told(
    session: Session, scorer: Scorer, tmp_path: Path
) -> None:
    batch = scored(session, scorer, messaging_accounts(150))
    apply(session, scorer, batch.request)
    ban = session.scalars(
        select(EnforcementAction).where(EnforcementAction.action == "ban")
    ).first()
    assert ban is not None
    outcome = overturn(session, ban.id)  # before its delivery was ever recorded
    lift = next(f.message for f in outcome.follow_ups if isinstance(f.message, DeliverActions))
    result = deliver_actions(
        session, lift, sink=JsonlSink(tmp_path / "p.jsonl"), max_attempts=8, now=utcnow()
    )
    assert result.summary == {"recorded": 0}
    kinds = set(session.scalars(select(Delivery.kind)))
    assert PLATFORM_LIFT not in kinds
    assert PLATFORM_ACTION not in kinds


def test_an_upheld_action_stays_and_is_labelled(env: dict[str, str]) -> None:
    (ban,) = enforced("banned", [("ban", "active")])
    with session_scope() as session:
        outcome = decide_appeal(
            session,
            ban,
            outcome="uphold",
            actor=person(session, "agent-2", "reviewer"),
            reason="bulk sending confirmed",
            neighbours=MemoryNeighbourStore(),
            now=utcnow(),
        )
        assert outcome.follow_ups == []
        assert outcome.after_commit == []
    assert account_status() == "banned"
    with session_scope() as session:
        assert session.get_one(EnforcementAction, ban).status == "active"
        assert [(label.abusive, label.source) for label in session.scalars(select(Label))] == [
            (True, "appeal")
        ]
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.entity == "enforcement_action")
        ).all()
        assert [(e.event, e.actor, e.channel, e.details) for e in events] == [
            ("appeal_upheld", "agent-2", "cli", {"reason": "bulk sending confirmed"})
        ]
        (appeal,) = session.scalars(select(Appeal)).all()
        assert appeal.decided_by_id == events[0].user_id is not None


def test_an_appeal_decides_once(env: dict[str, str]) -> None:
    (ban,) = enforced("banned", [("ban", "active")])
    for _ in range(2):
        with session_scope() as session:
            summary = overturn(session, ban).summary
    assert summary["already_decided"] is True
    with session_scope() as session:
        assert count(session, Appeal) == 1
        assert count(session, Label) == 1
        events = session.scalars(
            select(AuditEvent.event).where(AuditEvent.entity == "enforcement_action")
        ).all()
        assert events == ["reversed"]
    with session_scope() as session, pytest.raises(AppealError, match="already decided: overturn"):
        decide_appeal(
            session,
            ban,
            outcome="uphold",
            actor=person(session, "other", "reviewer"),
            reason="changed my mind",
            neighbours=MemoryNeighbourStore(),
            now=utcnow(),
        )


def test_overturning_a_ban_leaves_a_restriction_in_force(env: dict[str, str]) -> None:
    restrict, ban = enforced("banned", [("restrict", "active"), ("ban", "active")])
    with session_scope() as session:
        overturn(session, ban)
    assert account_status() == "restricted"
    with session_scope() as session:
        overturn(session, restrict)
    assert account_status() == "active"


@pytest.mark.parametrize(
    ("action", "status", "problem"),
    [
        ("review", "pending", "a pending review"),
        ("ban", "shadow", "a shadow ban"),
        ("ban", "reversed", "a reversed ban"),
    ],
)
def test_what_cannot_be_appealed(
    env: dict[str, str], action: str, status: str, problem: str
) -> None:
    (action_id,) = enforced("active", [(action, status)])
    with session_scope() as session, pytest.raises(AppealError, match=problem):
        overturn(session, action_id)
    with session_scope() as session:
        assert count(session, Appeal) == 0


def test_an_appeal_needs_a_reviewer_a_reason_and_an_action(env: dict[str, str]) -> None:
    (ban,) = enforced("banned", [("ban", "active")])
    with session_scope() as session:
        reviewer = person(session, "agent-7", "reviewer")
        counsel = person(session, "counsel-1", "counsel")
    refusals = [
        (Actor.system("someone"), "why", "not an enabled user"),
        (counsel, "why", "does not hold the reviewer role"),
        (reviewer, " ", "must say why"),
    ]
    for actor, reason, problem in refusals:
        with session_scope() as session, pytest.raises(AppealError, match=problem):
            decide_appeal(
                session,
                ban,
                outcome="overturn",
                actor=actor,
                reason=reason,
                neighbours=MemoryNeighbourStore(),
                now=utcnow(),
            )
    with session_scope() as session, pytest.raises(AppealError, match="no enforcement action 42"):
        overturn(session, 42)
    assert account_status() == "banned"


def test_an_expired_restriction_can_still_be_overturned(env: dict[str, str]) -> None:
    (restrict,) = enforced("active", [("restrict", "expired")])
    with session_scope() as session:
        outcome = overturn(session, restrict)
        assert outcome.summary["account_status"] == "active"
    with session_scope() as session:
        assert session.get_one(EnforcementAction, restrict).status == "reversed"
        assert session.scalars(select(Label.abusive)).all() == [False]


def test_database_refuses_a_second_active_ban(env: dict[str, str]) -> None:
    with pytest.raises(IntegrityError):
        enforced("banned", [("ban", "active"), ("ban", "active")])
    ids = enforced("banned", [("ban", "reversed"), ("ban", "active")])
    assert len(ids) == 2


def test_reversal_time_is_recorded(env: dict[str, str]) -> None:
    (ban,) = enforced("banned", [("ban", "active")])
    before = dt.datetime.now(dt.UTC)
    with session_scope() as session:
        overturn(session, ban)
    with session_scope() as session:
        reversed_at = session.get_one(EnforcementAction, ban).reversed_at
        assert reversed_at is not None
        assert reversed_at >= before - dt.timedelta(seconds=1)


def test_a_lift_owed_but_never_recorded_is_recorded_by_the_sweep(
    session: Session, scorer: Scorer, tmp_path: Path
) -> None:
    batch = scored(session, scorer, messaging_accounts(150))
    apply(session, scorer, batch.request)
    ban = session.scalars(
        select(EnforcementAction).where(EnforcementAction.action == "ban")
    ).first()
    assert ban is not None
    sink = JsonlSink(tmp_path / "p.jsonl")
    # The ban's delivery and its overturn crossed: the overturn's own delivery found nothing
    # told yet, and the ban's delivery recorded it afterwards.
    ban.status = "reversed"
    session.flush()
    deliver_actions(
        session, DeliverActions(action_ids=[ban.id]), sink=sink, max_attempts=8, now=utcnow()
    )
    ban.status = "active"
    session.flush()
    deliver_actions(
        session, DeliverActions(action_ids=[ban.id]), sink=sink, max_attempts=8, now=utcnow()
    )
    ban.status = "reversed"
    session.flush()
    assert owed_lifts(session).follow_ups  # the platform was told of a ban that no longer stands

    (follow_up,) = owed_lifts(session).follow_ups
    assert follow_up.message == DeliverActions(action_ids=[ban.id])
    deliver_actions(session, follow_up.message, sink=sink, max_attempts=8, now=utcnow())
    lift = session.scalars(select(Delivery).where(Delivery.kind == PLATFORM_LIFT)).one()
    assert lift.item is not None
    assert lift.item["account_status"] == session.get_one(Account, ban.account_id).status
    assert owed_lifts(session).summary == {"lifts_owed": 0}


def test_a_lift_cancels_the_retry_asked_for_the_ban_it_ends(env: dict[str, str]) -> None:
    (ban,) = enforced("banned", [("ban", "active")])

    def deliver(sink: PickySink) -> None:
        with session_scope() as session:
            outcome = deliver_actions(
                session, DeliverActions(action_ids=[ban]), sink=sink, max_attempts=8, now=utcnow()
            )
        for effect in outcome.after_commit:
            effect()

    platform = PickySink(f"action-{ban}")
    deliver(platform)  # refused: failed
    with session_scope() as session:
        asked = request_retries(
            session,
            actor=person(session, "oncall", "admin"),
            kinds=None,
            ids=None,
            now=utcnow(),
        )
    (follow_up,) = asked.follow_ups
    assert isinstance(follow_up.message, RetryDeliveries)
    with session_scope() as session:
        overturn(session, ban)
    deliver(platform)  # the lift, before any worker took the retry
    with session_scope() as session:
        statuses = dict(session.execute(select(Delivery.kind, Delivery.status)).all())
        assert statuses == {PLATFORM_ACTION: "cancelled", PLATFORM_LIFT: "delivered"}
        taken = retry_deliveries(
            session, follow_up.message, sink=lambda: platform, max_attempts=8
        ).summary
    assert taken == {"taken": 0, "refused": 0}  # the ban it would have sent stays unsent
    assert platform.batches == [[f"action-{ban}"], [f"lift-{ban}"]]
