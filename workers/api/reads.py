"""What a client may read back: where a batch it sent has got to, and an account's standing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.db.models import (
    Account,
    ApiBatch,
    DecisionBatch,
    EnforcementAction,
    OutboxMessage,
    Score,
    SignalSnapshot,
)
from tasks.scoring.decisions import COUNT_COLUMNS, decisions_of

# The statuses of an action that binds the account now.
IN_FORCE = ("active", "scheduled", "pending", "decided")


def batch_state(session: Session, batch: ApiBatch) -> dict[str, Any]:
    """``accepted`` (durable, not yet consumed), then ``scored`` (documents: ``ingested``) once
    its task committed, then ``enforced`` once every enforcement it led to committed too."""
    done = session.scalar(
        select(OutboxMessage.completed_at).where(OutboxMessage.dedupe_key == batch.dedupe_key)
    )
    answer: dict[str, Any] = {
        "batch_id": batch.id,
        "kind": batch.kind,
        "stage": batch.stage,
        "accepted": batch.accepted,
        "rejected": batch.rejected,
        "received_at": batch.created_at.isoformat(),
        "state": "accepted",
    }
    if done is None:
        return answer
    if batch.kind == "documents":
        return {**answer, "state": "ingested"}
    snapshot_id = session.scalar(
        select(SignalSnapshot.id).where(SignalSnapshot.content_hash == batch.snapshot_hash)
    )
    counts = (
        session.execute(
            select(*(getattr(DecisionBatch, c) for c in COUNT_COLUMNS)).where(
                DecisionBatch.snapshot_id == snapshot_id, DecisionBatch.shadow.is_(False)
            )
        ).first()
        if snapshot_id is not None
        else None
    )
    answer["decisions"] = dict(zip(COUNT_COLUMNS, counts or (0,) * len(COUNT_COLUMNS), strict=True))
    # The scoring task's enforcement follow-up (``tasks.scoring.score_batch``), if it sent one.
    pending = session.scalar(
        select(OutboxMessage.id).where(
            OutboxMessage.dedupe_key.like(f"enforcement.apply:{snapshot_id}:%"),
            OutboxMessage.completed_at.is_(None),
        )
    )
    answer["state"] = "scored" if pending is not None else "enforced"
    return answer


def account_standing(session: Session, account_id: str) -> dict[str, Any] | None:
    """The account's status, its actions in force, and the acting model's latest decision at
    each detection point, with the reasons kept for it; None for an account never seen."""
    account = session.get(Account, account_id)
    if account is None:
        return None
    actions = session.scalars(
        select(EnforcementAction)
        .where(EnforcementAction.account_id == account_id, EnforcementAction.status.in_(IN_FORCE))
        .order_by(EnforcementAction.id)
    ).all()
    latest: dict[str, Any] = {}
    for decided in decisions_of(session, account_id):
        if not decided.shadow:
            latest[decided.stage] = decided  # oldest first: the last one stands
    reasons = {
        (s.stage, s.model_version): s.reasons
        for s in session.scalars(
            select(Score).where(Score.account_id == account_id, Score.shadow.is_(False))
        )
    }
    return {
        "account_id": account.account_id,
        "status": account.status,
        "actions": [
            {
                "action_id": a.id,
                "action": a.action,
                "status": a.status,
                "model_version": a.model_version,
                "policy_version": a.policy_version,
                "created_at": a.created_at.isoformat(),
                "expires_at": a.expires_at.isoformat() if a.expires_at else None,
                "reasons": a.reasons or [],
            }
            for a in actions
        ],
        "decisions": {
            stage: {
                "decision": d.decision,
                "score": round(d.score, 6),
                "model_version": d.model_version,
                "received_at": d.received_at.isoformat(),
                "reasons": reasons.get((stage, d.model_version)) or [],
            }
            for stage, d in sorted(latest.items())
        },
    }
