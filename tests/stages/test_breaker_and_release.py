"""The ban-storm breaker and delayed release, on a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.db.models import Account, AuditEvent, BanCount, EnforcementAction
from infra.users import Actor, NotAllowedError
from tasks.enforcement import breaker
from tasks.enforcement.breaker import BreakerLimits
from tasks.enforcement.enforce import record_actions
from tasks.enforcement.expiry import expire
from tasks.enforcement.release import ReleaseDelay, release_due
from tasks.enforcement.safeguards import Safeguards
from tasks.messages import DeliverActions
from tasks.scoring.model import Scorer
from tests.people import person
from tests.records import messaging_accounts
from tests.stages.test_enforcement_body import NOW, PLAIN, RecordingNeighbours, apply, scored

LIMITS = BreakerLimits(
    window=dt.timedelta(minutes=10), baseline=dt.timedelta(hours=24), multiple=5.0, min_bans=20
)
NO_DELAY = ReleaseDelay(dt.timedelta(0), dt.timedelta(0))


def guards(
    limits: BreakerLimits = LIMITS, delay: ReleaseDelay = NO_DELAY, seed: int = 1
) -> Safeguards:
    return Safeguards(delay=delay, breaker=limits, rng=random.Random(seed))


def by_action(session: Session) -> dict[str, list[EnforcementAction]]:
    out: dict[str, list[EnforcementAction]] = {}
    for a in session.scalars(select(EnforcementAction).order_by(EnforcementAction.id)):
        out.setdefault(a.action, []).append(a)
    return out


def baseline(session: Session, per_hour: int, hours: int = 24) -> None:
    """A steady history of automatic bans before NOW's window."""
    for h in range(1, hours + 1):
        session.add(BanCount(minute=breaker.minute(NOW - dt.timedelta(hours=h)), bans=per_hour))
    session.flush()


def test_a_flood_of_bans_opens_the_breaker_and_holds_them_for_review(
    session: Session, scorer: Scorer
) -> None:
    baseline(session, per_hour=6)  # one ban per 10 minutes expected: the limit is the floor, 20
    batch = scored(session, scorer, messaging_accounts(300))
    outcome = apply(session, scorer, batch.request, safeguards=guards())

    made = by_action(session)
    assert "ban" not in made, "every automatic ban of the flood is held"
    held = [a for a in made["review"] if a.rule and a.rule.endswith(":held")]
    assert len(held) > LIMITS.min_bans
    assert all(a.status == "pending" for a in held)
    assert outcome.summary["held"] == len(held)
    reason = breaker.status(session, LIMITS, NOW).reason
    assert reason is not None
    assert reason.startswith(f"ban storm: {len(held)} automatic bans in the last 10 min")
    for action in held:
        (event,) = session.scalars(
            select(AuditEvent).where(
                AuditEvent.entity == "enforcement_action", AuditEvent.entity_id == action.id
            )
        )
        assert event.details["held"] == reason
    opened = session.scalars(select(AuditEvent).where(AuditEvent.entity == "breaker")).one()
    assert (opened.event, opened.actor) == ("opened", "breaker")
    # Restrictions and the accounts' standing are not the breaker's business.
    assert all(a.status == "active" for a in made.get("restrict", []))

    # Open, it holds the next batch too, whatever its size, until a person resets it.
    again = scored(session, scorer, messaging_accounts(40, seed=11))
    assert apply(session, scorer, again.request, safeguards=guards()).summary["held"] > 0
    reviewer = person(session, "reviewer-1", "reviewer")
    with pytest.raises(NotAllowedError, match="admin"):
        breaker.reset(session, actor=reviewer, note="not mine to reset", now=NOW)
    oncall = person(session, "oncall", "admin")
    assert breaker.reset(session, actor=oncall, note="bad feature fixed", now=NOW) is True
    assert breaker.reset(session, actor=oncall, note="again", now=NOW) is False
    reset = session.scalars(
        select(AuditEvent).where(AuditEvent.entity == "breaker", AuditEvent.event == "reset")
    ).one()
    assert (reset.actor, reset.user_id, reset.channel) == ("oncall", oncall.user_id, "cli")
    assert not breaker.status(session, LIMITS, NOW).open


def test_bans_at_their_usual_rate_go_ahead_and_are_counted(
    session: Session, scorer: Scorer
) -> None:
    baseline(session, per_hour=600)  # 100 per 10 minutes expected: the limit is 500
    batch = scored(session, scorer, messaging_accounts(300))
    outcome = apply(session, scorer, batch.request, safeguards=guards())
    bans = by_action(session)["ban"]
    assert outcome.summary["held"] == 0
    assert all(a.status == "active" for a in bans)
    state = breaker.status(session, LIMITS, NOW)
    assert not state.open
    assert state.window_bans == len(bans)
    assert round(state.expected_bans) == 100


def test_actions_wait_for_their_release(session: Session, scorer: Scorer) -> None:
    delay = ReleaseDelay(dt.timedelta(minutes=5), dt.timedelta(minutes=60))
    batch = scored(session, scorer, messaging_accounts(150))
    neighbours = RecordingNeighbours()
    outcome = apply(
        session, scorer, batch.request, safeguards=guards(delay=delay), neighbours=neighbours
    )

    made = by_action(session)
    scheduled = made["ban"] + made["restrict"]
    assert {a.status for a in scheduled} == {"scheduled"}
    assert outcome.summary["scheduled"] == len(scheduled)
    assert not any(isinstance(f.message, DeliverActions) for f in outcome.follow_ups)
    assert outcome.after_commit == []
    waits = [(a.release_at - NOW).total_seconds() for a in scheduled if a.release_at]
    assert len(waits) == len(scheduled)
    assert all(300 <= w <= 3600 for w in waits)
    assert len(set(waits)) == len(waits), "each action has its own moment"
    for r in made["restrict"]:
        assert r.release_at is not None
        assert r.expires_at == r.release_at + dt.timedelta(days=1)
    # Reviews are not delayed: they wait for a person anyway.
    assert {a.status for a in made["review"]} == {"pending"}
    assert {session.get_one(Account, a.account_id).status for a in scheduled} == {"active"}

    midway = NOW + dt.timedelta(minutes=30)
    first = release_due(session, neighbours=neighbours, now=midway)
    due = [a for a in scheduled if a.release_at and a.release_at <= midway]
    assert first.summary["released"] == len(due)
    assert {a.status for a in due} == {"active"}
    (deliver,) = [f.message for f in first.follow_ups if isinstance(f.message, DeliverActions)]
    assert isinstance(deliver, DeliverActions)
    assert sorted(deliver.action_ids) == sorted(a.id for a in due)
    for effect in first.after_commit:
        effect()
    assert sorted(neighbours.banned) == sorted(a.account_id for a in due if a.action == "ban")

    rest = release_due(session, neighbours=neighbours, now=NOW + dt.timedelta(hours=1))
    assert rest.summary["released"] == len(scheduled) - len(due)
    assert {a.status for a in scheduled} == {"active"}
    assert release_due(session, neighbours=neighbours, now=NOW + dt.timedelta(hours=2)).summary == {
        "released": 0,
        "superseded": 0,
    }


def test_an_account_banned_meanwhile_gets_nothing_more(session: Session, scorer: Scorer) -> None:
    delay = ReleaseDelay(dt.timedelta(minutes=5), dt.timedelta(minutes=5))
    batch = scored(session, scorer, messaging_accounts(150))
    apply(session, scorer, batch.request, safeguards=guards(delay=delay))
    ban = by_action(session)["ban"][0]
    # A person bans the account before its automatic ban is due.
    other = session.get_one(EnforcementAction, by_action(session)["review"][0].id)
    session.add(
        EnforcementAction(
            account_id=ban.account_id,
            score_id=other.score_id,
            action="ban",
            status="active",
            model_version=ban.model_version,
            score=ban.score,
            policy_version="p",
            actor="analyst-1",
            origin_id=other.id,
        )
    )
    session.flush()
    outcome = release_due(
        session, neighbours=RecordingNeighbours(), now=NOW + dt.timedelta(minutes=5)
    )
    assert ban.status == "superseded"
    assert outcome.summary["superseded"] == 1


def test_a_ban_due_while_the_breaker_is_open_is_held_and_never_dismissed_by_the_clock(
    session: Session, scorer: Scorer
) -> None:
    delay = ReleaseDelay(dt.timedelta(minutes=5), dt.timedelta(minutes=5))
    batch = scored(session, scorer, messaging_accounts(150))
    apply(session, scorer, batch.request, safeguards=guards(delay=delay))
    scheduled = by_action(session)["ban"]
    # A storm elsewhere opens the breaker before these bans are due.
    baseline(session, per_hour=0)
    assert breaker.hold_reason(session, LIMITS, NOW, LIMITS.min_bans + 1) is not None

    outcome = release_due(session, neighbours=RecordingNeighbours(), now=NOW + delay.longest)

    assert outcome.summary["held"] == len(scheduled)
    assert outcome.summary["released"] == len(by_action(session).get("restrict", []))
    held = [a for a in scheduled if a.action == "review"]
    assert len(held) == len(scheduled)
    assert all(a.status == "pending" and a.rule and a.rule.endswith(":held") for a in held)
    # Weeks later nobody has looked: held cases still wait for a person.
    later = expire(session, policy=PLAIN, now=NOW + dt.timedelta(days=60))
    assert all(a.status == "pending" for a in held)
    assert later.summary["reviews_dismissed"] == len(by_action(session)["review"]) - len(held)


def test_actions_already_recorded_are_neither_returned_nor_audited_again(
    session: Session, scorer: Scorer
) -> None:
    batch = scored(session, scorer, messaging_accounts(150))
    apply(session, scorer, batch.request)
    made = by_action(session)["ban"][0]
    row = {
        "account_id": made.account_id,
        "score_id": made.score_id,
        "action": "ban",
        "status": "active",
        "model_version": made.model_version,
        "score": made.score,
        "policy_version": "p",
    }
    events = len(session.scalars(select(AuditEvent)).all())
    assert record_actions(session, [row], actor=Actor.system("classifier")) == []
    assert len(session.scalars(select(AuditEvent)).all()) == events
