"""``legal.evaluate``'s body: the policy decides on a company's evidence, and a notice is drafted.

One notice per company and policy version, left awaiting a person's approval. A draft still
awaiting approval is refreshed when the evidence it cites changes; an approved, sent or rejected
notice is a legal record and is never rewritten.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.db.inserts import insert_ignore_select
from infra.db.models import (
    AccountCompanyLink,
    Company,
    CompanyIndicator,
    Evidence,
    EvidenceLink,
    LegalNotice,
)
from tasks.evidence.company_graph import live_company
from tasks.legal import history
from tasks.legal.notice import CompanyView, EvidenceView, render
from tasks.legal.policy import Eligibility, EvidenceFact
from tasks.legal.policy import evaluate as evaluate_policy
from tasks.messages import EvaluateCompany
from tasks.outcome import Outcome


def evaluate_company(session: Session, request: EvaluateCompany, *, policy_version: str) -> Outcome:
    # A company merged into another since the request was made is evaluated as that one.
    company = live_company(session, request.company_id)
    rows = session.execute(
        select(Evidence, EvidenceLink.confidence)
        .join(EvidenceLink, EvidenceLink.evidence_id == Evidence.id)
        .where(EvidenceLink.company_id == company.id)
    ).all()
    facts = [EvidenceFact(e.id, e.source, e.observed_at, e.claims_bulk, conf) for e, conf in rows]
    verdict = evaluate_policy(facts)
    if not verdict.eligible:
        return Outcome({"company_id": company.id, "eligible": False, "reason": verdict.reason})

    notice = session.scalars(
        select(LegalNotice)
        .where(LegalNotice.company_id == company.id, LegalNotice.policy_version == policy_version)
        .with_for_update()
    ).one_or_none()
    if notice is not None and notice.status != "awaiting_approval":
        # Approved, sent or rejected notices are a legal record: never rewritten underneath.
        return Outcome(
            {
                "company_id": company.id,
                "eligible": True,
                "notice_id": notice.id,
                "status": notice.status,
            }
        )
    evidence = {e.id: EvidenceView(e.url, e.excerpt) for e, _ in rows}
    fields = _draft(session, company, verdict, evidence, policy_version)
    if notice is None:
        (notice,) = insert_ignore_select(
            session,
            LegalNotice,
            [
                {
                    "company_id": company.id,
                    "policy_version": policy_version,
                    "status": "awaiting_approval",
                    **fields,
                }
            ],
            ("company_id", "policy_version"),
        )
        history.record(session, notice, f"drafted: {verdict.reason}")
    elif notice.cited_evidence != fields["cited_evidence"]:
        for key, value in fields.items():
            setattr(notice, key, value)
        history.record(session, notice, f"evidence updated: {len(verdict.cited)} items cited")
    return Outcome(
        {"company_id": company.id, "eligible": True, "notice_id": notice.id, "basis": verdict.basis}
    )


def _draft(
    session: Session,
    company: Company,
    verdict: Eligibility,
    evidence: dict[int, EvidenceView],
    policy_version: str,
) -> dict[str, Any]:
    """The notice's fields for ``verdict``: its basis, citations, period and letter."""
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
        policy_version=policy_version,
    )
    return {
        "basis": verdict.basis,
        "cited_evidence": [f.evidence_id for f in verdict.cited],
        "activity_first": verdict.activity_first,
        "activity_last": verdict.activity_last,
        "body": body,
    }
