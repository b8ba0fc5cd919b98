"""The review queue: a person decides each case the policy sent to review.

A decision to ban or restrict is enforced through the same path as an automatic action (the
restriction's length from the policy's ladder, evidence, neighbourhoods, delivery); a dismissal
leaves the account as it is. Every decision is audited and kept as a label. A case is decided
once: the same decision sent again changes nothing, a different one is refused.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from infra.db.models import Account, AuditEvent, EnforcementAction, Score
from infra.users import Actor, NotAllowedError, authorize
from tasks.accounts.signals import as_json
from tasks.enforcement import claims, labels
from tasks.enforcement.apply import past_restrictions
from tasks.enforcement.enforce import audit, put_in_force, record_actions, scored_records, term_end
from tasks.enforcement.policy import Policy, restriction_term
from tasks.neighbourhoods.rules import NeighbourStore
from tasks.outcome import Outcome

ReviewOutcome = Literal["ban", "restrict", "dismiss"]


class ReviewError(ValueError):
    """A decision that cannot be taken: the reason says why."""


def decide_review(
    session: Session,
    review_id: int,
    *,
    outcome: ReviewOutcome,
    actor: Actor,
    note: str,
    policy: Policy,
    neighbours: NeighbourStore,
    now: dt.datetime,
    claimed: bool = False,
) -> Outcome:
    """Decide the case as ``actor``. A case someone else holds a live lease on
    (:mod:`tasks.enforcement.claims`) is theirs, whichever channel this decision comes from;
    with ``claimed``, the actor must hold the lease themself (the console's way: claim, then
    decide). Deciding settles the lease."""
    try:
        authorize(session, actor, "reviewer")
    except NotAllowedError as exc:
        raise ReviewError(f"{exc}: review cases are decided by reviewers") from exc
    review = session.get(EnforcementAction, review_id, with_for_update=True)
    if review is None or review.action != "review":
        raise ReviewError(f"no review case {review_id}")
    if review.status == "pending":
        # A case no longer pending holds no lease: it is answered as already decided below.
        refused = claims.refusal(session, review.id, actor.user_id, now, own=claimed)
        if refused is not None:
            raise ReviewError(refused)
    # Taken only while still pending, by the database: a decision or the expiry that committed
    # first wins, and this one is answered as already decided (SQLite takes no row lock above).
    taken = session.execute(
        update(EnforcementAction)
        .where(EnforcementAction.id == review.id, EnforcementAction.status == "pending")
        .values(status="dismissed" if outcome == "dismiss" else "decided")
        .execution_options(synchronize_session="fetch")
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(review)
        return _already(session, review, outcome)
    claims.settle(session, review.id)
    audit(
        session,
        review.id,
        f"review:{outcome}",
        actor=actor,
        details={"note": note, "policy_version": policy.version},
    )
    labels.keep(
        session, review, abusive=outcome != "dismiss", source="review", decided_by=actor.name
    )
    summary: dict[str, Any] = {"review_id": review.id, "outcome": outcome, "action_id": None}
    if outcome == "dismiss":
        return Outcome(summary)
    account = session.get_one(Account, review.account_id)
    if account.status == "banned" or (outcome == "restrict" and account.status == "restricted"):
        summary["note"] = f"account already {account.status}: nothing more to enforce"
        return Outcome(summary)
    action, term = outcome, None
    if outcome == "restrict":
        past = past_restrictions(session, [review.account_id], policy, now)
        term, escalated = restriction_term(policy.restrictions, past.get(review.account_id, 0))
        if escalated:
            action = "ban"
    made = record_actions(
        session,
        [
            {
                "account_id": review.account_id,
                "score_id": review.score_id,
                "action": action,
                "status": "active",
                "model_version": review.model_version,
                "score": review.score,
                "reasons": review.reasons,
                "policy_version": policy.version,
                "rule": "review" if action == outcome else "review:repeat",
                "origin_id": review.id,
                "expires_at": term_end(now, term),
            }
        ],
        actor=actor,
    )
    if not made:
        # The one active ban per account refused it: banned meanwhile by another transaction.
        summary["note"] = "account already banned: nothing more to enforce"
        return Outcome(summary)
    (created,) = made
    result = put_in_force(session, [created], neighbours=neighbours, key=f"review:{review.id}")
    result.summary = {**summary, "action_id": created.id, "action": action, **result.summary}
    return result


def _already(session: Session, review: EnforcementAction, outcome: ReviewOutcome) -> Outcome:
    """A case no longer pending: the same decision again is answered as before, any other
    is refused."""
    earlier = session.scalar(
        select(AuditEvent)
        .where(
            AuditEvent.entity == "enforcement_action",
            AuditEvent.entity_id == review.id,
            AuditEvent.event.like("review:%"),
        )
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    if earlier is None or earlier.event != f"review:{outcome}":
        how = (
            f"{earlier.event.removeprefix('review:')} by {earlier.actor}" if earlier else "expired"
        )
        raise ReviewError(f"review case {review.id} is already {review.status} ({how})")
    made = session.scalar(
        select(EnforcementAction.id).where(EnforcementAction.origin_id == review.id)
    )
    return Outcome(
        {"review_id": review.id, "outcome": outcome, "action_id": made, "already_decided": True}
    )


@dataclass(frozen=True)
class Case:
    """What a person needs to decide a review: the score, its reasons, the record's signals
    and the account's history."""

    review: EnforcementAction
    score: Score
    account: Account
    record: dict[str, Any] | None
    history: list[EnforcementAction]


def next_case(session: Session, *, stage: str | None = None) -> Case | None:
    """The oldest pending review (of one detection point, if given)."""
    query = (
        select(EnforcementAction, Score)
        .join(Score, Score.id == EnforcementAction.score_id)
        .where(EnforcementAction.action == "review", EnforcementAction.status == "pending")
        .order_by(EnforcementAction.created_at, EnforcementAction.id)
        .limit(1)
    )
    if stage is not None:
        query = query.where(Score.stage == stage)
    row = session.execute(query).first()
    if row is None:
        return None
    review, score = row
    return case_of(session, review, score)


def case_of(session: Session, review: EnforcementAction, score: Score) -> Case:
    record = scored_records(session, [review]).get(review.id)
    history = list(
        session.scalars(
            select(EnforcementAction)
            .where(
                EnforcementAction.account_id == review.account_id,
                EnforcementAction.id != review.id,
            )
            .order_by(EnforcementAction.created_at)
        )
    )
    return Case(
        review=review,
        score=score,
        account=session.get_one(Account, review.account_id),
        record=as_json(record) if record else None,
        history=history,
    )
