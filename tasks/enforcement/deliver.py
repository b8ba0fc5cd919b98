"""``enforcement.deliver``'s body: the platform is told of each action in force, once."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.db.models import EnforcementAction
from infra.deliveries import deliver_once
from infra.sinks import Sink
from tasks.messages import DeliverActions
from tasks.outcome import Outcome


def deliver_actions(session: Session, request: DeliverActions, *, sink: Sink) -> Outcome:
    actions = session.scalars(
        select(EnforcementAction).where(
            EnforcementAction.id.in_(request.action_ids), EnforcementAction.status == "active"
        )
    ).all()
    sent = deliver_once(
        session,
        sink,
        "platform_action",
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
    return Outcome({"delivered": len(sent)})
