"""What counsel reads before deciding on a notice, the same on the command line (``bulkguard
legal show``) and in the console: the text with its hash, the evidence it cites with the cited
passages, what to check (evidence dated near the cut-off), its revisions, its delivery and its
history. Built once here so that the two never show counsel different things."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.db.models import (
    Delivery,
    Evidence,
    LegalEvaluation,
    LegalNotice,
    NoticeEvent,
    NoticeRevision,
)
from infra.redaction import redact
from tasks.legal.send import build_message, recipients


def summary(notice: LegalNotice) -> dict[str, Any]:
    """A notice in a list: what it is, to whom, where it stands."""
    return {
        "id": notice.id,
        "reference": notice.reference,
        "kind": notice.kind,
        "company_id": notice.company_id,
        "status": notice.status,
        "revision": notice.revision,
        "basis": notice.basis,
        "language": notice.language,
        "cited_evidence": notice.cited_evidence,
        "follows": notice.previous_id,
        "approved_by": notice.approved_by,
        "approved_by_id": notice.approved_by_id,
        "sent_at": notice.sent_at.isoformat() if notice.sent_at else None,
        "respond_by": notice.respond_by.isoformat() if notice.respond_by else None,
        "escalated_at": notice.escalated_at.isoformat() if notice.escalated_at else None,
    }


def detail(session: Session, notice: LegalNotice) -> dict[str, Any]:
    """Everything counsel reads before deciding on ``notice``."""
    evaluation = (
        session.get(LegalEvaluation, notice.evaluation_id) if notice.evaluation_id else None
    )
    borderline = list(evaluation.borderline) if evaluation else []
    evidence = session.scalars(
        select(Evidence).where(Evidence.id.in_(notice.cited_evidence)).order_by(Evidence.id)
    ).all()
    delivery = session.scalar(
        select(Delivery).where(Delivery.kind == "legal_notice", Delivery.ref_id == notice.id)
    )
    return {
        **summary(notice),
        "sha256": notice.body_sha256,
        "body": notice.body,
        "borderline": borderline,
        "revisions": [
            {"revision": r.revision, "sha256": r.body_sha256, "at": r.created_at.isoformat()}
            for r in session.scalars(
                select(NoticeRevision)
                .where(NoticeRevision.notice_id == notice.id)
                .order_by(NoticeRevision.revision)
            )
        ],
        "evidence": [
            {
                "id": e.id,
                "observed_at": e.observed_at.isoformat(),
                "source": e.source,
                "kind": e.kind,
                "url": e.url,
                "excerpt": e.excerpt,
                "borderline": e.id in borderline,
            }
            for e in evidence
        ],
        "delivery": None
        if delivery is None
        else {
            "status": delivery.status,
            "sink": delivery.sink,
            "attempts": delivery.attempts,
            "attempted_at": delivery.attempted_at.isoformat() if delivery.attempted_at else None,
            "delivered_at": delivery.delivered_at.isoformat() if delivery.delivered_at else None,
            # An error may quote the receiver's answer, addresses included.
            "last_error": redact(delivery.last_error) if delivery.last_error else None,
        },
        "history": [
            {
                "at": h.at.isoformat(),
                "status": h.status,
                "actor": h.actor,
                "user_id": h.user_id,
                "channel": h.channel,
                "note": h.note,
            }
            for h in session.scalars(
                select(NoticeEvent)
                .where(NoticeEvent.notice_id == notice.id)
                .order_by(NoticeEvent.id)
            )
        ],
    }


def outgoing(session: Session, notice: LegalNotice, sender: str) -> EmailMessage:
    """The e-mail ``legal.send`` would send for the notice's current text, built by the same
    function, to the addresses on record now."""
    return build_message(notice, recipients(session, notice.company_id), sender)


def previous_text(session: Session, notice: LegalNotice) -> str | None:
    """The text of the revision before the current one, or None for a first revision."""
    return session.scalar(
        select(NoticeRevision.body).where(
            NoticeRevision.notice_id == notice.id, NoticeRevision.revision == notice.revision - 1
        )
    )
