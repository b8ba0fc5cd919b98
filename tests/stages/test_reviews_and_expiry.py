"""People decide review cases, restrictions run out, stale cases are dismissed: on a real
database (SQLite and PostgreSQL), rolled back after each test."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.db.models import Account, AuditEvent, EnforcementAction, Evidence, Label, Score
from infra.users import Actor
from tasks.enforcement.expiry import expire
from tasks.enforcement.reviews import ReviewError, decide_review, next_case
from tasks.evidence.on_platform import record_ban_evidence
from tasks.messages import DeliverActions, RecordBanEvidence
from tasks.neighbourhoods.memory import MemoryNeighbourStore
from tasks.outcome import Outcome
from tasks.scoring.model import Scorer
from tests.people import person
from tests.records import messaging_accounts
from tests.stages.test_enforcement_body import NOW, PLAIN, RecordingNeighbours, apply, scored


def reviews(session: Session, scorer: Scorer, accounts: int = 150) -> list[EnforcementAction]:
    batch = scored(session, scorer, messaging_accounts(accounts))
    apply(session, scorer, batch.request)
    found = list(
        session.scalars(
            select(EnforcementAction)
            .where(EnforcementAction.action == "review")
            .order_by(EnforcementAction.id)
        )
    )
    assert len(found) >= 3, "the batch should leave several review cases"
    return found


def decide(
    session: Session,
    review_id: int,
    outcome: str,
    *,
    by: str = "analyst-1",
    neighbours: MemoryNeighbourStore | None = None,
    now: dt.datetime = NOW,
) -> Outcome:
    return decide_review(
        session,
        review_id,
        outcome=outcome,  # type: ignore[arg-type]
        actor=person(session, by, "reviewer"),
        note="checked the recipients",
        policy=PLAIN,
        neighbours=neighbours or MemoryNeighbourStore(),
        now=now,
    )


def test_the_oldest_case_comes_first_with_what_a_person_needs(
    session: Session, scorer: Scorer
) -> None:
    first, *_ = reviews(session, scorer)
    case = next_case(session)
    assert case is not None
    assert case.review.id == first.id
    assert case.score.id == first.score_id
    assert case.account.account_id == first.account_id
    assert case.record is not None
    assert case.record["account_id"] == first.account_id
    assert "messaging" in case.record
    assert case.review.reasons, "the case shows why the model scored it"
    assert next_case(session, stage="registration") is None


def test_a_ban_decided_by_a_person_is_enforced_like_an_automatic_one(
    session: Session, scorer: Scorer
) -> None:
    review, *_ = reviews(session, scorer)
    neighbours = RecordingNeighbours()
    outcome = decide(session, review.id, "ban", neighbours=neighbours)

    assert review.status == "decided"
    made = session.scalars(
        select(EnforcementAction).where(EnforcementAction.origin_id == review.id)
    ).one()
    assert (made.action, made.status, made.actor, made.rule, made.score_id) == (
        "ban",
        "active",
        "analyst-1",
        "review",
        review.score_id,
    )
    assert session.get_one(Account, review.account_id).status == "banned"
    deliver = next(f for f in outcome.follow_ups if isinstance(f.message, DeliverActions))
    assert deliver.message == DeliverActions(action_ids=[made.id])
    assert deliver.dedupe_key == f"enforcement.deliver:review:{review.id}"
    for effect in outcome.after_commit:
        effect()
    assert neighbours.banned == [review.account_id]
    label = session.scalars(select(Label)).one()
    assert (label.abusive, label.source, label.action_id, label.decided_by) == (
        True,
        "review",
        review.id,
        "analyst-1",
    )
    events = session.scalars(
        select(AuditEvent.event).where(AuditEvent.entity_id.in_([review.id, made.id]))
    ).all()
    assert "review:ban" in events
    assert "created:active" in events
    # A business profile on the banned account makes it evidence, as for an automatic ban: the
    # evidence stage makes it once this commits, as the pipeline runs the follow-up.
    handed = [f for f in outcome.follow_ups if isinstance(f.message, RecordBanEvidence)]
    for follow_up in handed:
        assert isinstance(follow_up.message, RecordBanEvidence)
        assert follow_up.message.action_ids == [made.id]
        assert follow_up.dedupe_key == f"evidence.record_bans:review:{review.id}"
        record_ban_evidence(session, follow_up.message)
    evidence = session.scalars(select(Evidence).where(Evidence.action_id == made.id)).all()
    assert len(evidence) == len(handed) <= 1


def past_restriction(
    session: Session, like: EnforcementAction, *, days_ago: int, status: str = "expired"
) -> EnforcementAction:
    """A restriction of ``like``'s account ``days_ago``, on a score of its own."""
    seen = session.get_one(Score, like.score_id)
    score = Score(
        snapshot_id=seen.snapshot_id,
        position=seen.position,
        account_id=seen.account_id,
        stage=seen.stage,
        observed_at=seen.observed_at - dt.timedelta(days=days_ago),
        model_version=seen.model_version,
        score=seen.score,
        decision="restrict",
    )
    session.add(score)
    session.flush()
    action = EnforcementAction(
        account_id=like.account_id,
        score_id=score.id,
        action="restrict",
        status=status,
        model_version=like.model_version,
        score=like.score,
        policy_version="old",
        actor="classifier",
        created_at=NOW - dt.timedelta(days=days_ago),
        expires_at=NOW - dt.timedelta(days=days_ago - 1),
    )
    session.add(action)
    session.flush()
    return action


def test_a_restriction_decided_by_a_person_follows_the_ladder(
    session: Session, scorer: Scorer
) -> None:
    first, second, third, *_ = reviews(session, scorer)
    decide(session, first.id, "restrict")
    made = session.scalars(
        select(EnforcementAction).where(EnforcementAction.origin_id == first.id)
    ).one()
    assert (made.action, made.expires_at, made.rule) == (
        "restrict",
        NOW + dt.timedelta(days=1),
        "review",
    )
    assert session.get_one(Account, first.account_id).status == "restricted"

    # Restricted once this year, once more than a year ago (outside the lookback): a week.
    past_restriction(session, second, days_ago=100)
    past_restriction(session, second, days_ago=400)
    decide(session, second.id, "restrict")
    made = session.scalars(
        select(EnforcementAction).where(EnforcementAction.origin_id == second.id)
    ).one()
    assert made.expires_at == NOW + dt.timedelta(days=7)

    # Three restrictions this year (one overturned, which does not count, and one extra):
    # the ladder is used up and the decision becomes a ban.
    for days_ago in (200, 100, 50):
        past_restriction(session, third, days_ago=days_ago)
    past_restriction(session, third, days_ago=20, status="reversed")
    decide(session, third.id, "restrict")
    made = session.scalars(
        select(EnforcementAction).where(EnforcementAction.origin_id == third.id)
    ).one()
    assert (made.action, made.rule, made.expires_at) == ("ban", "review:repeat", None)
    assert session.get_one(Account, third.account_id).status == "banned"


def test_a_dismissal_changes_nothing_but_is_a_label(session: Session, scorer: Scorer) -> None:
    review, *_ = reviews(session, scorer)
    outcome = decide(session, review.id, "dismiss")
    assert outcome.follow_ups == []
    assert review.status == "dismissed"
    assert session.get_one(Account, review.account_id).status == "active"
    assert session.scalars(select(Label.abusive)).all() == [False]


def test_a_case_is_decided_once(session: Session, scorer: Scorer) -> None:
    review, *_ = reviews(session, scorer)
    first = decide(session, review.id, "ban")
    again = decide(session, review.id, "ban", by="analyst-2")
    assert again.summary["already_decided"] is True
    assert again.summary["action_id"] == first.summary["action_id"]
    assert again.follow_ups == []
    with pytest.raises(ReviewError, match=r"already decided \(ban by analyst-1\)"):
        decide(session, review.id, "dismiss")
    assert len(session.scalars(select(Label)).all()) == 1


def test_what_cannot_be_decided(session: Session, scorer: Scorer) -> None:
    review, *_ = reviews(session, scorer)
    ban = session.scalars(
        select(EnforcementAction).where(EnforcementAction.action == "ban")
    ).first()
    assert ban is not None
    for case_id in (ban.id, 999_999):
        with pytest.raises(ReviewError, match=f"no review case {case_id}"):
            decide(session, case_id, "ban")
    with pytest.raises(ReviewError, match="does not hold the reviewer role"):
        decide_review(
            session,
            review.id,
            outcome="ban",
            actor=person(session, "counsel-1", "counsel"),
            note="",
            policy=PLAIN,
            neighbours=MemoryNeighbourStore(),
            now=NOW,
        )
    with pytest.raises(ReviewError, match="not an enabled user"):
        decide_review(
            session,
            review.id,
            outcome="ban",
            actor=Actor.system("analyst-1"),
            note="",
            policy=PLAIN,
            neighbours=MemoryNeighbourStore(),
            now=NOW,
        )
    assert review.status == "pending"


def test_a_case_on_an_account_banned_meanwhile_enforces_nothing_more(
    session: Session, scorer: Scorer
) -> None:
    review, *_ = reviews(session, scorer)
    session.get_one(Account, review.account_id).status = "banned"
    outcome = decide(session, review.id, "restrict")
    assert outcome.summary["action_id"] is None
    assert "already banned" in outcome.summary["note"]
    assert review.status == "decided"


def test_restrictions_expire_and_are_lifted(session: Session, scorer: Scorer) -> None:
    batch = scored(session, scorer, messaging_accounts(150))
    apply(session, scorer, batch.request)
    restrictions = session.scalars(
        select(EnforcementAction).where(EnforcementAction.action == "restrict")
    ).all()
    assert restrictions
    assert all(r.expires_at == NOW + dt.timedelta(days=1) for r in restrictions)

    assert expire(session, policy=PLAIN, now=NOW + dt.timedelta(hours=23)).summary == {
        "expired": 0,
        "reviews_dismissed": 0,
    }
    outcome = expire(session, policy=PLAIN, now=NOW + dt.timedelta(days=1))
    assert outcome.summary == {"expired": len(restrictions), "reviews_dismissed": 0}
    assert {r.status for r in restrictions} == {"expired"}
    for r in restrictions:
        assert session.get_one(Account, r.account_id).status == "active"
    (lift,) = outcome.follow_ups
    assert isinstance(lift.message, DeliverActions)
    assert sorted(lift.message.action_ids) == sorted(r.id for r in restrictions)
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.event == "expired", AuditEvent.actor == "policy")
    ).all()
    assert len(events) == len(restrictions)
    # Run again: nothing left.
    assert expire(session, policy=PLAIN, now=NOW + dt.timedelta(days=2)).follow_ups == []


def test_an_expired_restriction_keeps_a_ban_in_force(session: Session, scorer: Scorer) -> None:
    review, *_ = reviews(session, scorer)
    restriction = past_restriction(session, review, days_ago=1, status="active")
    decide(session, review.id, "ban")
    expire(session, policy=PLAIN, now=NOW)
    assert restriction.status == "expired"
    assert session.get_one(Account, review.account_id).status == "banned"


def test_stale_review_cases_are_dismissed_without_a_label(session: Session, scorer: Scorer) -> None:
    found = reviews(session, scorer)
    days = PLAIN.reviews.expire_after_days
    created = found[0].created_at
    early = expire(session, policy=PLAIN, now=created + dt.timedelta(days=days - 1))
    assert early.summary["reviews_dismissed"] == 0
    late = expire(session, policy=PLAIN, now=created + dt.timedelta(days=days, seconds=5))
    assert late.summary["reviews_dismissed"] == len(found)
    assert {r.status for r in found} == {"dismissed"}
    assert session.scalars(select(Label)).all() == []
