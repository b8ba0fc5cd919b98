"""``enforcement.deliver``'s body: the platform is told of each action in force, and of each
one that ended (a restriction's term ran out, an appeal overturned it), once each.

Every item carries its idempotency key, the moment it was issued and the account's standing
once the event is applied (``account_status``: banned, restricted or active, as bulkguard holds
it then). A receiver sets the account to the standing of the newest item it has seen for it, so a
late retry of a ban never overrides the lift that followed, and lifting a restriction under a ban
leaves the account banned (docs/platform-delivery.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session, aliased

from infra import deliveries
from infra.db.models import Account, Delivery, EnforcementAction
from infra.sink_contract import Sink
from tasks.messages import DeliverActions, FollowUp
from tasks.outcome import Outcome

PLATFORM_ACTION = "platform_action"
PLATFORM_LIFT = "platform_lift"
PLATFORM_KINDS = (PLATFORM_ACTION, PLATFORM_LIFT)
ENDED = ("expired", "reversed")


def deliver_actions(
    session: Session,
    request: DeliverActions,
    *,
    sink: Sink,
    max_attempts: int,
    now: dt.datetime,
) -> Outcome:
    """Record the items that tell the platform of ``request``'s actions (issued at ``now``) and
    send them once that commits."""
    # Locked, so an appeal or expiry that ends one of them waits for this record (PostgreSQL),
    # and its own delivery then finds the action told and owes the lift; where that cannot be
    # enforced (SQLite reads without a lock) the sweep records lifts still owed (owed_lifts).
    actions = session.scalars(
        select(EnforcementAction)
        .where(EnforcementAction.id.in_(request.action_ids))
        .order_by(EnforcementAction.id)
        .with_for_update()
    ).all()
    standing: dict[str, str] = {
        row.account_id: row.status
        for row in session.execute(
            select(Account.account_id, Account.status).where(
                Account.account_id.in_({a.account_id for a in actions})
            )
        )
    }
    in_force = {
        a.id: _item(a, a.action, standing[a.account_id], now)
        for a in actions
        if a.status == "active"
    }
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
    lifts = {a.id: _item(a, "lift", standing[a.account_id], now) for a in ended if a.id in told}
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


def owed_lifts(session: Session, limit: int = 1000) -> Outcome:
    """Follow-ups for the lifts owed but never recorded: an action the platform was told of
    that has since ended (a delivery and an appeal crossed)."""
    told = aliased(Delivery)
    lifted = aliased(Delivery)
    owed = list(
        session.scalars(
            select(told.ref_id)
            .join(EnforcementAction, EnforcementAction.id == told.ref_id)
            .where(
                told.kind == PLATFORM_ACTION,
                EnforcementAction.status.in_(ENDED),
                ~exists().where(lifted.kind == PLATFORM_LIFT, lifted.ref_id == told.ref_id),
            )
            .order_by(told.ref_id)
            .limit(limit)
        )
    )
    if not owed:
        return Outcome({"lifts_owed": 0})
    return Outcome(
        {"lifts_owed": len(owed)},
        follow_ups=[
            FollowUp(
                DeliverActions(action_ids=owed),
                dedupe_key=f"enforcement.deliver:owed:{owed[0]}:{owed[-1]}:{len(owed)}",
            )
        ],
    )


def _item(
    action: EnforcementAction, event: str, account_status: str, now: dt.datetime
) -> dict[str, Any]:
    lifted = event == "lift"
    return {
        "idempotency_key": f"{'lift' if lifted else 'action'}-{action.id}",
        "event": event,
        "action_id": action.id,
        "account_id": action.account_id,
        "account_status": account_status,
        "action": action.action,
        "expires_at": None
        if lifted or action.expires_at is None
        else action.expires_at.isoformat(),
        "reason": action.status if lifted else action.rule,
        "policy_version": action.policy_version,
        "model_version": action.model_version,
        "issued_at": now.isoformat(),
    }


def _sender(sink: Sink, kind: str, ids: list[int], max_attempts: int) -> Callable[[], None]:
    def send() -> None:
        deliveries.send(sink, kind, ids, max_attempts=max_attempts)

    return send
