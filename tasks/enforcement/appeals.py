"""Appeals: an enforcement action is reversed by a person, with a reason, and the account's
standing is recomputed from what remains in force. A reversed ban stops being evidence: the
companies it was cited against are evaluated again (their open notices redrafted or withdrawn)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.db.models import Account, AuditEvent, EnforcementAction, Evidence, EvidenceLink, utcnow
from tasks.messages import EvaluateCompany, FollowUp
from tasks.outcome import Outcome


class AppealError(RuntimeError):
    pass


def reverse(session: Session, action_id: int, *, actor: str, reason: str) -> EnforcementAction:
    if not actor.strip() or not reason.strip():
        raise AppealError("a reversal must name who decided it and why")
    action = session.get(EnforcementAction, action_id, with_for_update=True)
    if action is None:
        raise AppealError(f"no enforcement action {action_id}")
    if action.status == "reversed":
        raise AppealError(f"action {action_id} was already reversed on {action.reversed_at}")
    previous = action.status
    action.status = "reversed"
    action.reversed_at = utcnow()
    action.reversed_by = actor
    action.reversal_reason = reason
    session.add(
        AuditEvent(
            entity="enforcement_action",
            entity_id=action.id,
            event="reversed",
            actor=actor,
            details={"reason": reason, "previous_status": previous},
        )
    )
    session.flush()
    remaining = set(
        session.scalars(
            select(EnforcementAction.action).where(
                EnforcementAction.account_id == action.account_id,
                EnforcementAction.status == "active",
            )
        )
    )
    account = session.get_one(Account, action.account_id)
    account.status = (
        "banned" if "ban" in remaining else "restricted" if "restrict" in remaining else "active"
    )
    return action


def reverse_on_appeal(session: Session, action_id: int, *, actor: str, reason: str) -> Outcome:
    """``reverse``, then hand every company the ban was evidence against back to legal."""
    action = reverse(session, action_id, actor=actor, reason=reason)
    companies = sorted(
        set(
            session.scalars(
                select(EvidenceLink.company_id)
                .join(Evidence, Evidence.id == EvidenceLink.evidence_id)
                .where(Evidence.action_id == action.id)
            )
        )
    )
    return Outcome(
        {"action_id": action.id, "account_id": action.account_id, "companies": companies},
        follow_ups=[
            FollowUp(
                EvaluateCompany(company_id=c), dedupe_key=f"legal.evaluate:{c}:reversal:{action.id}"
            )
            for c in companies
        ],
    )
