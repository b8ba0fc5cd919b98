"""``enforcement.release``'s body (beat): actions decided with a delay are put in force when due.

Releasing each action at a random moment within configured bounds keeps abusers from timing the
detector (which message, which threshold). The due time is kept in the database, and beat
releases what is due, so no message waits in the broker longer than its visibility timeout.
An account that gained a ban meanwhile (another score, a person's decision) gets nothing more,
and a restriction is not released over one in force: those actions end as ``superseded``.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.db.models import EnforcementAction
from infra.users import Actor
from tasks.enforcement.breaker import HELD, open_reason
from tasks.enforcement.enforce import actions_by_account, audit, put_in_force
from tasks.neighbourhoods.rules import NeighbourStore
from tasks.outcome import Outcome

ACTOR = Actor.system("release")
BATCH = 1000


@dataclass(frozen=True)
class ReleaseDelay:
    """Bounds of the random wait between deciding an action and putting it in force."""

    shortest: dt.timedelta
    longest: dt.timedelta

    def draw(self, rng: random.Random) -> dt.timedelta:
        if self.longest <= self.shortest:
            return self.shortest
        span = (self.longest - self.shortest).total_seconds()
        return self.shortest + dt.timedelta(seconds=rng.uniform(0, span))


def release_due(session: Session, *, neighbours: NeighbourStore, now: dt.datetime) -> Outcome:
    due = session.scalars(
        select(EnforcementAction)
        .where(EnforcementAction.status == "scheduled", EnforcementAction.release_at <= now)
        .order_by(EnforcementAction.release_at, EnforcementAction.id)
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    ).all()
    if not due:
        return Outcome({"released": 0, "superseded": 0})
    held = actions_by_account(session, {a.account_id for a in due}, "active")
    released, superseded = [], []
    storm = open_reason(session)
    for action in due:
        in_force = held.setdefault(action.account_id, set())
        if storm is not None and action.action == "ban":
            _hold(session, action, storm)
            continue
        if "ban" in in_force or (action.action == "restrict" and "restrict" in in_force):
            action.status = "superseded"
            superseded.append(action)
        else:
            action.status = "active"
            in_force.add(action.action)
            released.append(action)
        audit(
            session,
            action.id,
            action.status if action.status == "superseded" else "released",
            actor=ACTOR,
            details={"release_at": action.release_at.isoformat() if action.release_at else None},
        )
    session.flush()
    outcome = put_in_force(
        session, released, neighbours=neighbours, key=f"release:{due[0].id}:{len(due)}"
    )
    outcome.summary = {
        "released": len(released),
        "superseded": len(superseded),
        "held": sum(a.status == "pending" for a in due),
        **outcome.summary,
    }
    return outcome


def _hold(session: Session, action: EnforcementAction, reason: str) -> None:
    """A scheduled ban due while the breaker is open becomes a review case, as new bans do."""
    action.action, action.status = "review", "pending"
    action.rule = f"{action.rule or 'ban'}{HELD}"
    action.expires_at = None
    audit(session, action.id, "held", actor=ACTOR, details={"held": reason})
