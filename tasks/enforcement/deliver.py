"""``enforcement.deliver``'s body: the platform is told of each action in force, once."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from infra import deliveries
from infra.db.models import EnforcementAction
from infra.sinks import Sink
from tasks.messages import DeliverActions
from tasks.outcome import Outcome

PLATFORM_ACTION = "platform_action"


def deliver_actions(session: Session, request: DeliverActions, *, sink: Sink) -> Outcome:
    actions = session.scalars(
        select(EnforcementAction).where(
            EnforcementAction.id.in_(request.action_ids), EnforcementAction.status == "active"
        )
    ).all()
    recorded = deliveries.record(
        session,
        sink,
        PLATFORM_ACTION,
        {
            a.id: {
                "idempotency_key": f"action-{a.id}",
                "account_id": a.account_id,
                "action": a.action,
                "policy_version": a.policy_version,
                "model_version": a.model_version,
            }
            for a in actions
        },
    )
    # Sent once the record has committed: an outage before then sends nothing.
    return Outcome(
        {"recorded": len(recorded)},
        after_commit=[lambda: _send(sink, recorded)] if recorded else [],
    )


def _send(sink: Sink, recorded: list[int]) -> None:
    deliveries.send(sink, PLATFORM_ACTION, recorded)
