"""``legal.evaluate``, ``legal.send`` and ``legal.escalate``, plus the human approval step.

``evaluate`` drafts (or refreshes) one notice per company and policy version and leaves it
awaiting approval. Nothing is ever sent without a recorded approval: ``send`` re-checks the
status under the transaction and refuses anything not approved.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.db.models import (
    AccountCompanyLink,
    Company,
    CompanyIndicator,
    Delivery,
    Evidence,
    EvidenceLink,
    LegalNotice,
    NoticeEvent,
    utcnow,
)
from infra.db.session import insert_ignore
from infra.settings import get_settings
from infra.sinks import JsonlSink
from tasks.base import Payload, Run, stage_task
from tasks.legal.notice import CompanyView, EvidenceView, render
from tasks.legal.policy import EvidenceFact
from tasks.legal.policy import evaluate as evaluate_policy

SYSTEM = "bulkguard"
# Drafts waiting longer than this for a decision are escalated to the legal team lead.
ESCALATE_AFTER = dt.timedelta(hours=48)


class EvaluateCompany(Payload):
    company_id: int = Field(ge=1)


class SendNotice(Payload):
    notice_id: int = Field(ge=1)


class Escalate(Payload):
    pass


class ApprovalError(RuntimeError):
    pass


@stage_task("legal.evaluate", EvaluateCompany, soft_time_limit=60, time_limit=90)
def evaluate(run: Run, request: EvaluateCompany) -> dict[str, Any]:
    session = run.session
    settings = get_settings()
    company = session.get(Company, request.company_id)
    if company is None:
        raise LookupError(f"company {request.company_id} does not exist")
    rows = session.execute(
        select(Evidence, EvidenceLink.confidence)
        .join(EvidenceLink, EvidenceLink.evidence_id == Evidence.id)
        .where(EvidenceLink.company_id == company.id)
    ).all()
    facts = [EvidenceFact(e.id, e.source, e.observed_at, e.claims_bulk, conf) for e, conf in rows]
    verdict = evaluate_policy(facts)
    if not verdict.eligible:
        return {"company_id": company.id, "eligible": False, "reason": verdict.reason}

    notice = session.scalars(
        select(LegalNotice)
        .where(
            LegalNotice.company_id == company.id,
            LegalNotice.policy_version == settings.policy_version,
        )
        .with_for_update()
    ).one_or_none()
    if notice is not None and notice.status != "awaiting_approval":
        # Approved, sent or rejected notices are a legal record: never rewritten underneath.
        return {
            "company_id": company.id,
            "eligible": True,
            "notice_id": notice.id,
            "status": notice.status,
        }
    evidence = {e.id: EvidenceView(e.url, e.excerpt) for e, _ in rows}
    domains = sorted(
        session.scalars(
            select(CompanyIndicator.value).where(
                CompanyIndicator.company_id == company.id, CompanyIndicator.kind == "domain"
            )
        )
    )
    accounts = sorted(
        session.scalars(
            select(AccountCompanyLink.account_id).where(AccountCompanyLink.company_id == company.id)
        )
    )
    body = render(
        company=CompanyView(company.id, company.name),
        domains=domains,
        eligibility=verdict,
        evidence=evidence,
        linked_accounts=accounts,
        policy_version=settings.policy_version,
    )
    fields = {
        "basis": verdict.basis,
        "cited_evidence": [f.evidence_id for f in verdict.cited],
        "activity_first": verdict.activity_first,
        "activity_last": verdict.activity_last,
        "body": body,
    }
    if notice is None:
        session.execute(
            insert_ignore(session, LegalNotice),
            [
                {
                    "company_id": company.id,
                    "policy_version": settings.policy_version,
                    "status": "awaiting_approval",
                    **fields,
                }
            ],
        )
        notice = session.scalars(
            select(LegalNotice).where(
                LegalNotice.company_id == company.id,
                LegalNotice.policy_version == settings.policy_version,
            )
        ).one()
        _history(session, notice, f"drafted: {verdict.reason}")
    elif notice.cited_evidence != fields["cited_evidence"]:
        for key, value in fields.items():
            setattr(notice, key, value)
        _history(session, notice, f"evidence updated: {len(verdict.cited)} items cited")
    return {
        "company_id": company.id,
        "eligible": True,
        "notice_id": notice.id,
        "basis": verdict.basis,
    }


def decide(
    session: Session, notice_id: int, *, approve: bool, actor: str, note: str
) -> LegalNotice:
    """Record a person's approval or rejection of a drafted notice."""
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
    _history(session, notice, note, actor=actor)
    session.flush()
    return notice


@stage_task("legal.send", SendNotice, soft_time_limit=60, time_limit=90)
def send(run: Run, request: SendNotice) -> dict[str, Any]:
    session = run.session
    notice = session.get(LegalNotice, request.notice_id, with_for_update=True)
    if notice is None:
        raise LookupError(f"legal notice {request.notice_id} does not exist")
    if notice.status == "sent":
        return {"notice_id": notice.id, "status": "sent", "delivered": False}
    if notice.status != "approved" or not notice.approved_by:
        raise ApprovalError(
            f"legal notice {notice.id} is {notice.status}: only approved notices are sent"
        )
    sink = JsonlSink(get_settings().legal_sink_path)
    sink.deliver(
        [
            {
                "idempotency_key": f"notice-{notice.id}",
                "notice_id": notice.id,
                "company_id": notice.company_id,
                "basis": notice.basis,
                "cited_evidence": notice.cited_evidence,
                "approved_by": notice.approved_by,
                "body": notice.body,
            }
        ]
    )
    session.execute(
        insert_ignore(session, Delivery),
        [{"kind": "legal_notice", "ref_id": notice.id, "sink": str(sink)}],
    )
    notice.status = "sent"
    notice.sent_at = utcnow()
    _history(session, notice, str(sink))
    return {"notice_id": notice.id, "status": "sent", "delivered": True}


@stage_task("legal.escalate", Escalate, soft_time_limit=60, time_limit=90)
def escalate(run: Run, _request: Escalate) -> dict[str, Any]:
    """Beat: flag drafts that have waited too long for a human decision."""
    session = run.session
    stale = session.scalars(
        select(LegalNotice).where(
            LegalNotice.status == "awaiting_approval",
            LegalNotice.escalated_at.is_(None),
            LegalNotice.created_at < utcnow() - ESCALATE_AFTER,
        )
    ).all()
    for notice in stale:
        notice.escalated_at = utcnow()
        _history(session, notice, f"escalated: no decision within {ESCALATE_AFTER}")
    return {"escalated": len(stale)}


def _history(session: Session, notice: LegalNotice, note: str, *, actor: str = SYSTEM) -> None:
    """Append the notice's current status to its history, with who and why."""
    session.add(NoticeEvent(notice_id=notice.id, status=notice.status, actor=actor, note=note))
