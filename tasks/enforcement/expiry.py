"""``enforcement.expire``'s body (beat): restrictions whose term has run out are lifted, and
review cases nobody decided in time are dismissed."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from infra.db.models import EnforcementAction
from infra.users import Actor
from tasks.enforcement import claims
from tasks.enforcement.breaker import HELD
from tasks.enforcement.enforce import audit, end
from tasks.enforcement.policy import Policy
from tasks.outcome import Outcome

ACTOR = Actor.system("policy")
BATCH = 1000


def expire(session: Session, *, policy: Policy | None, now: dt.datetime) -> Outcome:
    """Lift up to ``BATCH`` restrictions past their term and dismiss as many stale reviews
    (none without a ``policy`` to say when a review is stale); the rest waits for the next run."""
    due = session.scalars(
        select(EnforcementAction)
        .where(
            EnforcementAction.action == "restrict",
            EnforcementAction.status == "active",
            EnforcementAction.expires_at <= now,
        )
        .order_by(EnforcementAction.expires_at, EnforcementAction.id)
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    ).all()
    outcome = (
        end(
            session,
            due,
            status="expired",
            actor=ACTOR,
            details={"term_ended_by": now.isoformat()},
            key=f"lift:expired:{due[0].id}:{len(due)}",
        )
        if due
        else Outcome({"expired": 0})
    )
    outcome.summary["reviews_dismissed"] = (
        _dismiss_stale_reviews(session, policy, now) if policy is not None else 0
    )
    return outcome


def _dismiss_stale_reviews(session: Session, policy: Policy, now: dt.datetime) -> int:
    """Reviews pending longer than the policy allows are dismissed: the account keeps its
    standing, and no label is kept, since no person looked."""
    cutoff = now - dt.timedelta(days=policy.reviews.expire_after_days)
    stale = session.scalars(
        select(EnforcementAction)
        .where(
            EnforcementAction.action == "review",
            EnforcementAction.status == "pending",
            EnforcementAction.created_at < cutoff,
            # Bans the breaker held wait for a person however long it takes: dismissing them
            # unseen would let a real storm's abusers go.
            or_(EnforcementAction.rule.is_(None), ~EnforcementAction.rule.endswith(HELD)),
        )
        .order_by(EnforcementAction.id)
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    ).all()
    dismissed = 0
    for review in stale:
        # Only while still pending: a person's decision that committed first stands.
        taken = session.execute(
            update(EnforcementAction)
            .where(EnforcementAction.id == review.id, EnforcementAction.status == "pending")
            .values(status="dismissed")
            .execution_options(synchronize_session="fetch")
        )
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            continue
        dismissed += 1
        claims.settle(session, review.id)
        audit(
            session,
            review.id,
            "dismissed",
            actor=ACTOR,
            details={"reason": "expired", "pending_days": policy.reviews.expire_after_days},
        )
    return dismissed
