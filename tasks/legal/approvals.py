"""A person's decision on a drafted notice: approval (then it is sent) or rejection.

Nothing is sent without it: ``legal.send`` re-checks the recorded approval before delivery.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from infra.db.models import LegalNotice, utcnow
from tasks.legal import history
from tasks.messages import FollowUp, SendNotice
from tasks.outcome import Outcome


class ApprovalError(RuntimeError):
    pass


def decide(session: Session, notice_id: int, *, approve: bool, actor: str, note: str) -> Outcome:
    """Record the decision; an approved notice's sending follows once it commits."""
    if not actor.strip():
        raise ApprovalError("an approval must name the person who gives it")
    notice = session.get(LegalNotice, notice_id, with_for_update=True)
    if notice is None:
        raise ApprovalError(f"no legal notice {notice_id}")
    if notice.status != "awaiting_approval":
        raise ApprovalError(f"notice {notice_id} is {notice.status}, not awaiting approval")
    notice.status = "approved" if approve else "rejected"
    if approve:
        notice.approved_by = actor
        notice.approved_at = utcnow()
    history.record(session, notice, note, actor=actor)
    session.flush()
    outcome = Outcome({"notice_id": notice.id, "status": notice.status})
    if approve:
        outcome.follow_ups.append(
            FollowUp(SendNotice(notice_id=notice.id), dedupe_key=f"legal.send:{notice.id}")
        )
    return outcome
