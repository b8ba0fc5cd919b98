"""``enforcement.deliver``'s body: the platform is told of each action in force, and of each
one that ended (a restriction's term ran out, an appeal overturned it), once each.

Every item carries its idempotency key and the moment it was issued: a receiver applies an
event for an account only if it is newer than the last one it applied, so a lift that overtakes
a late retry of its ban still wins.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from infra import deliveries
from infra.db.models import Delivery, EnforcementAction, utcnow
from infra.sinks import Sink
from tasks.messages import DeliverActions
from tasks.outcome import Outcome

PLATFORM_ACTION = "platform_action"
PLATFORM_LIFT = "platform_lift"
PLATFORM_KINDS = (PLATFORM_ACTION, PLATFORM_LIFT)
ENDED = ("expired", "reversed")


def deliver_actions(
    session: Session, request: DeliverActions, *, sink: Sink, max_attempts: int
) -> Outcome:
    actions = session.scalars(
        select(EnforcementAction).where(EnforcementAction.id.in_(request.action_ids))
    ).all()
    in_force = {a.id: _item(a, a.action) for a in actions if a.status == "active"}
    ended = [a for a in actions if a.status in ENDED]
    # A lift is owed only for what the platform was told of (or may have been: an attempt in
    # flight); an action that ended before it was ever recorded for delivery was never made.
    told = set(
        session.scalars(
            select(Delivery.ref_id).where(
                Delivery.kind == PLATFORM_ACTION, Delivery.ref_id.in_([a.id for a in ended])
            )
        )
    )
    lifts = {a.id: _item(a, "lift") for a in ended if a.id in told}
    # An action not yet taken by the receiver need not be: the lift follows it either way.
    if lifts:
        session.execute(
            update(Delivery)
            .where(
                Delivery.kind == PLATFORM_ACTION,
                Delivery.ref_id.in_(list(lifts)),
                Delivery.status == "failed",
            )
            .values(status="cancelled")
        )
    recorded = [
        (kind, ids)
        for kind, ids in (
            (PLATFORM_ACTION, deliveries.record(session, sink, PLATFORM_ACTION, in_force)),
            (PLATFORM_LIFT, deliveries.record(session, sink, PLATFORM_LIFT, lifts)),
        )
        if ids
    ]
    # Sent once the record has committed: an outage before then sends nothing.
    return Outcome(
        {"recorded": sum(len(ids) for _, ids in recorded)},
        after_commit=[_sender(sink, kind, ids, max_attempts) for kind, ids in recorded],
    )


def _item(action: EnforcementAction, event: str) -> dict[str, Any]:
    lifted = event == "lift"
    return {
        "idempotency_key": f"{'lift' if lifted else 'action'}-{action.id}",
        "event": event,
        "action_id": action.id,
        "account_id": action.account_id,
        "action": action.action,
        "expires_at": None
        if lifted or action.expires_at is None
        else action.expires_at.isoformat(),
        "reason": action.status if lifted else action.rule,
        "policy_version": action.policy_version,
        "model_version": action.model_version,
        "issued_at": utcnow().isoformat(),
    }


def _sender(sink: Sink, kind: str, ids: list[int], max_attempts: int) -> Callable[[], None]:
    def send() -> None:
        deliveries.send(sink, kind, ids, max_attempts=max_attempts)

    return send
