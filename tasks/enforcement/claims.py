"""Reviewers' leases on review cases: one person works a case at a time, until the lease runs out.

A claim is a row of ``review_claims`` keyed by the case, so the database lets one reviewer in:
taking a case is one statement that inserts the lease, or takes over one that has run out (or
renews the claimer's own), and changes nothing while someone else's lease lives. Two reviewers
racing for a case get one winner on SQLite and PostgreSQL alike.

Pure functions over a session and a clock, shared by the console and the decision body
(:func:`tasks.enforcement.reviews.decide_review`), so a decision from any channel, the command
line included, respects the leases people took in the console.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from infra.db.models import EnforcementAction, ReviewClaim, Score, User
from infra.users import Actor, authorize
from tasks.enforcement.enforce import audit


class ClaimError(ValueError):
    """A claim or release that cannot be made: the message says why, for the person."""


@dataclass(frozen=True)
class Lease:
    """Who holds a case, and until when."""

    review_id: int
    user_id: int
    holder: str  # the holder's name as people know them
    expires_at: dt.datetime

    @property
    def until(self) -> str:
        return f"{self.expires_at:%H:%M} UTC"

    def describe(self) -> str:
        return f"held by {self.holder} until {self.until}"


def live(session: Session, review_id: int, now: dt.datetime) -> Lease | None:
    """The lease on the case that has not run out at ``now``."""
    row = session.execute(
        select(ReviewClaim.user_id, ReviewClaim.expires_at, User.display_name)
        .join(User, User.id == ReviewClaim.user_id)
        .where(ReviewClaim.review_id == review_id, ReviewClaim.expires_at > now)
    ).first()
    if row is None:
        return None
    return Lease(review_id, row.user_id, row.display_name, row.expires_at)


def claim(
    session: Session, review_id: int, actor: Actor, *, lease: dt.timedelta, now: dt.datetime
) -> Lease:
    """Take the pending case for ``actor`` (a reviewer) for ``lease`` from ``now``: unclaimed,
    its lease run out, or the actor's own (renewed). Refused while another person's lease
    lives."""
    user = authorize(session, actor, "reviewer")
    # Locked first, as a decision locks it: on PostgreSQL a claim and a decision on one case take
    # turns, so no claim lands on a case decided meanwhile, and both take the case's lock before
    # the lease's, so neither waits on the other in a cycle. SQLite reads this before its single
    # writer's lock, so a claim racing a decision may leave a lease on a closed case: harmless,
    # as the queue lists pending cases only and a decision reads no lease of a closed one.
    review = session.get(EnforcementAction, review_id, with_for_update=True)
    if review is None or review.action != "review":
        raise ClaimError(f"there is no review case {review_id}")
    if review.status != "pending":
        raise ClaimError(
            f"review case {review_id} is already {review.status}: there is nothing to claim"
        )
    statement = _insert(session).values(
        review_id=review_id, user_id=user.id, claimed_at=now, expires_at=now + lease
    )
    taken = session.scalar(
        statement.on_conflict_do_update(
            index_elements=[ReviewClaim.review_id],
            set_={
                "user_id": statement.excluded.user_id,
                "claimed_at": statement.excluded.claimed_at,
                "expires_at": statement.excluded.expires_at,
            },
            where=or_(ReviewClaim.expires_at <= now, ReviewClaim.user_id == user.id),
        ).returning(ReviewClaim.expires_at)
    )
    if taken is None:
        holder = live(session, review_id, now)
        held = holder.describe() if holder else "claimed by someone else a moment ago"
        raise ClaimError(f"review case {review_id} is {held}: pick another case")
    # Who held a case, and when, is part of how it was decided: on the case's trail.
    audit(session, review_id, "claimed", actor=actor, details={"until": taken.isoformat()})
    return Lease(review_id, user.id, user.display_name, taken)


def held(session: Session, user_id: int | None, now: dt.datetime) -> int | None:
    """The pending case ``user_id`` has held longest under a live lease, if any."""
    found: int | None = session.scalar(
        select(ReviewClaim.review_id)
        .join(EnforcementAction, EnforcementAction.id == ReviewClaim.review_id)
        .where(
            ReviewClaim.user_id == user_id,
            ReviewClaim.expires_at > now,
            EnforcementAction.status == "pending",
        )
        .order_by(ReviewClaim.claimed_at, ReviewClaim.review_id)
        .limit(1)
    )
    return found


def claim_next(
    session: Session,
    actor: Actor,
    *,
    lease: dt.timedelta,
    now: dt.datetime,
    stage: str | None = None,
    tries: int = 5,
) -> Lease | None:
    """Claim the case that has waited longest with no live lease (at ``stage``, if given), for
    ``actor``; None when none waits. A case another reviewer took between the look and the
    claim is passed over for the next one, ``tries`` times at most. (The console sends a
    reviewer who still holds a case back to it first: :func:`held`.)"""
    for _ in range(tries):
        review_id = oldest_unclaimed(session, now, stage=stage)
        if review_id is None:
            return None
        try:
            return claim(session, review_id, actor, lease=lease, now=now)
        except ClaimError:
            continue  # taken (or decided) a moment ago: the next oldest
    return None


def release(session: Session, review_id: int, actor: Actor) -> bool:
    """Give the case back; False when the person held no lease on it."""
    gone = session.execute(
        delete(ReviewClaim).where(
            ReviewClaim.review_id == review_id, ReviewClaim.user_id == actor.user_id
        )
    )
    if not gone.rowcount:  # type: ignore[attr-defined]
        return False
    audit(session, review_id, "released", actor=actor, details={})
    return True


def settle(session: Session, review_id: int) -> None:
    """A decided case needs no lease: whoever held it is free of it."""
    session.execute(delete(ReviewClaim).where(ReviewClaim.review_id == review_id))


def refusal(
    session: Session, review_id: int, user_id: int | None, now: dt.datetime, *, own: bool
) -> str | None:
    """Why ``user_id`` may not decide the pending case at ``now``, or None: another person's
    live lease always refuses; with ``own``, so does holding no live lease of one's own."""
    lease = live(session, review_id, now)
    if lease is not None and lease.user_id != user_id:
        return f"review case {review_id} is {lease.describe()}: it is theirs to decide until then"
    if own and lease is None:
        return (
            f"claim review case {review_id} first (or again: a claim runs out): a case is "
            "decided by the person holding it"
        )
    return None


def oldest_unclaimed(session: Session, now: dt.datetime, *, stage: str | None = None) -> int | None:
    """The pending case that has waited longest with no live lease on it."""
    query = (
        select(EnforcementAction.id)
        .outerjoin(
            ReviewClaim,
            (ReviewClaim.review_id == EnforcementAction.id) & (ReviewClaim.expires_at > now),
        )
        .where(
            EnforcementAction.action == "review",
            EnforcementAction.status == "pending",
            ReviewClaim.review_id.is_(None),
        )
        .order_by(EnforcementAction.created_at, EnforcementAction.id)
        .limit(1)
    )
    if stage is not None:
        query = query.join(Score, Score.id == EnforcementAction.score_id).where(
            Score.stage == stage
        )
    found: int | None = session.scalar(query)
    return found


def _insert(session: Session) -> postgresql.Insert | sqlite.Insert:
    """``INSERT ... ON CONFLICT`` of the session's database."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(ReviewClaim)
    if dialect == "sqlite":
        return sqlite.insert(ReviewClaim)
    raise NotImplementedError(f"bulkguard supports SQLite and PostgreSQL, not {dialect}")
