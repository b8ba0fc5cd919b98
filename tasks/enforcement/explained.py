"""Why an account was actioned, as an operator reads it beside the model's decisions: each
automatic action with the policy rule that chose it and the feature contributions behind it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.db.models import EnforcementAction, Score


@dataclass(frozen=True)
class Explained:
    action_id: int
    action: str
    status: str
    rule: str | None
    policy_version: str
    reasons: list[dict[str, Any]]

    def as_json(self) -> dict[str, Any]:
        return {
            "action_id": self.action_id,
            "action": self.action,
            "status": self.status,
            "rule": self.rule,
            "policy_version": self.policy_version,
            "reasons": self.reasons,
        }


def explained_actions(session: Session, account_id: str) -> dict[tuple[int, str], Explained]:
    """The automatic action on each of the account's actioned decisions, keyed by the
    decision's snapshot and model version (a person's later decision on a review is its own
    action, shown by ``review`` and the audit trail)."""
    rows = session.execute(
        select(Score.snapshot_id, Score.model_version, EnforcementAction)
        .join(EnforcementAction, EnforcementAction.score_id == Score.id)
        .where(
            Score.account_id == account_id,
            EnforcementAction.account_id == account_id,
            EnforcementAction.origin_id.is_(None),
        )
    )
    return {
        (snapshot_id, version): Explained(
            action_id=a.id,
            action=a.action,
            status=a.status,
            rule=a.rule,
            policy_version=a.policy_version,
            reasons=list(a.reasons or []),
        )
        for snapshot_id, version, a in rows
    }
