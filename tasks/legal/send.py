"""``legal.send``'s body: an approved notice is delivered, once, and marked sent.

The status is re-read under a row lock: nothing without a recorded approval is ever sent.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from infra.db.models import LegalNotice, utcnow
from infra.deliveries import deliver_once
from infra.sinks import Sink
from tasks.legal import history
from tasks.legal.approvals import ApprovalError
from tasks.messages import SendNotice
from tasks.outcome import Outcome


def send_notice(session: Session, request: SendNotice, *, sink: Sink) -> Outcome:
    notice = session.get(LegalNotice, request.notice_id, with_for_update=True)
    if notice is None:
        raise LookupError(f"legal notice {request.notice_id} does not exist")
    if notice.status == "sent":
        return Outcome({"notice_id": notice.id, "status": "sent", "delivered": False})
    if notice.status != "approved" or not notice.approved_by:
        raise ApprovalError(
            f"legal notice {notice.id} is {notice.status}: only approved notices are sent"
        )
    deliver_once(
        session,
        sink,
        "legal_notice",
        {
            notice.id: {
                "idempotency_key": f"notice-{notice.id}",
                "notice_id": notice.id,
                "company_id": notice.company_id,
                "basis": notice.basis,
                "cited_evidence": notice.cited_evidence,
                "approved_by": notice.approved_by,
                "body": notice.body,
            }
        },
    )
    notice.status = "sent"
    notice.sent_at = utcnow()
    history.record(session, notice, str(sink))
    return Outcome({"notice_id": notice.id, "status": "sent", "delivered": True})
