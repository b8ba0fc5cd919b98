"""``legal.evaluate``'s body: the policy decides on a company's standing evidence, the decision is
recorded, and the company's open notice is drafted, revised or withdrawn to match.

Only evidence that stands counts: a ban still in force (not shadow, pending or overturned), a
preserved document. Every evaluation is stored, eligible or not, with the evidence it relied on;
the same evidence evaluated again is the same row. A notice's text changes only as a new
revision, which needs its own approval: an approver never signs a text they did not read.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from dataclasses import dataclass

import phonenumbers
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from infra.db.inserts import insert_ignore_select
from infra.db.models import (
    AccountCompanyLink,
    Company,
    Document,
    EnforcementAction,
    Evidence,
    EvidenceLink,
    LegalEvaluation,
    LegalNotice,
)
from tasks.evidence.company_graph import keys_of, live_company, why_not_standing
from tasks.evidence.reading.indicators import host_parts, normalize_company_name
from tasks.legal import history, notice_status
from tasks.legal.letter import CitedEvidence, Letter, language_for, render
from tasks.legal.policy import Eligibility, EvidenceFact, Policy
from tasks.legal.policy import evaluate as evaluate_policy
from tasks.messages import EvaluateCompany
from tasks.outcome import Outcome

SYSTEM = history.SYSTEM
# Notices that already told the company: new evidence after them is for escalation to act on.
ADDRESSED = ("sent", "acknowledged", "escalated")
# Country-code domains sold to anyone and used as generic ones: they say nothing of a country.
GENERIC_COUNTRY_CODES = frozenset({"io", "co", "me", "tv", "ai", "ly", "fm", "gg", "cc", "ws"})


@dataclass(frozen=True)
class Standing:
    """A company's evidence that counts now, as policy facts and as the letter cites it."""

    facts: list[EvidenceFact]
    cited: dict[int, CitedEvidence]


def evaluate_company(
    session: Session, request: EvaluateCompany, *, policy: Policy, now: dt.datetime
) -> Outcome:
    """Evaluate the company at ``now``: its notice drafted, revised or withdrawn to match."""
    # A company merged into another since the request was made is evaluated as that one; its
    # row lock keeps two evaluations of one company from drafting two notices.
    company = live_company(session, request.company_id)
    session.get(Company, company.id, with_for_update=True)
    standing = standing_evidence(session, company.id)
    verdict = evaluate_policy(standing.facts, policy)
    evaluation = record_evaluation(session, company.id, policy, verdict)
    summary: dict[str, object] = {
        "company_id": company.id,
        "eligible": verdict.eligible,
        "evaluation_id": evaluation.id,
    }
    notice = open_notice(session, company.id)
    if not verdict.eligible:
        summary["reason"] = verdict.reason
        if notice is not None:
            notice_status.move(
                session, notice, "withdrawn", f"no longer eligible: {verdict.reason}", actor=SYSTEM
            )
            summary["withdrawn"] = notice.reference
        return Outcome(summary)
    summary["basis"] = verdict.basis
    cited_ids = [f.evidence_id for f in verdict.cited]
    if notice is None:
        if _already_addressed(session, company.id, cited_ids):
            summary["notice"] = "already addressed"
            return Outcome(summary)
        notice = draft_notice(
            session,
            company,
            policy,
            verdict,
            standing,
            evaluation_id=evaluation.id,
            note=f"drafted: {verdict.reason}",
            now=now,
        )
    else:
        body = _render(session, company, notice, policy=policy, verdict=verdict, standing=standing)
        if body != notice.body:
            _revise(
                session,
                notice,
                body=body,
                cited=cited_ids,
                verdict=verdict,
                evaluation_id=evaluation.id,
            )
    summary["notice"] = notice.reference
    summary["revision"] = notice.revision
    return Outcome(summary)


def standing_evidence(session: Session, company_id: int) -> Standing:
    rows = session.execute(
        select(Evidence, EvidenceLink.confidence, EnforcementAction.status, Document.sha256)
        .join(EvidenceLink, EvidenceLink.evidence_id == Evidence.id)
        .outerjoin(EnforcementAction, EnforcementAction.id == Evidence.action_id)
        .outerjoin(Document, Document.id == Evidence.document_id)
        .where(EvidenceLink.company_id == company_id)
        .order_by(Evidence.observed_at, Evidence.id)
    ).all()
    facts: list[EvidenceFact] = []
    cited: dict[int, CitedEvidence] = {}
    for item, confidence, action_status, document_sha in rows:
        # A ban stands while it is in force (not recorded in shadow, not overturned), a document
        # once preserved: what a letter can cite, by its hash.
        if why_not_standing(item, action_status) is not None:
            continue
        if item.source == "on_platform":
            phones = item.indicators.get("phones") or [None]
            sha, phone = item.content_hash, phones[0]
        else:
            sha, phone = document_sha, None
        facts.append(
            EvidenceFact(
                item.id, item.source, item.kind, item.observed_at, item.claims_bulk, confidence
            )
        )
        cited[item.id] = CitedEvidence(
            item.id, item.source, item.observed_at, item.url, sha, item.excerpt, phone
        )
    return Standing(facts, cited)


def open_notice(session: Session, company_id: int) -> LegalNotice | None:
    return session.scalars(
        select(LegalNotice)
        .where(LegalNotice.company_id == company_id, LegalNotice.status.in_(notice_status.OPEN))
        .with_for_update()
    ).one_or_none()


def _render(
    session: Session,
    company: Company,
    notice: LegalNotice,
    *,
    policy: Policy,
    verdict: Eligibility,
    standing: Standing,
) -> str:
    """The notice's letter for ``verdict``, in the notice's language."""
    keys = keys_of(session, company.id)
    previous = None
    if notice.previous_id is not None:
        previous = session.get_one(LegalNotice, notice.previous_id).reference
    return render(
        Letter(
            reference=notice.reference,
            language=notice.language,
            kind=notice.kind,
            company_name=company.name,
            basis=verdict.basis or "",
            cutoff=policy.off_platform_cutoff,
            activity_first=verdict.activity_first,
            activity_last=verdict.activity_last,
            evidence=tuple(standing.cited[f.evidence_id] for f in verdict.cited),
            response_days=policy.response_days,
            accounts_actioned=_accounts_banned(session, company.id),
            brands=_brands(session, company, policy.min_link_confidence),
            domains=tuple(v for k, v in keys if k == "domain"),
            previous_reference=previous,
        )
    )


def countries(session: Session, company_id: int) -> list[str]:
    """Where a company is, most likely first: its numbers' countries, its domains' country codes."""
    seen: Counter[str] = Counter()
    for kind, value in keys_of(session, company_id):
        if kind == "phone":
            try:
                region = phonenumbers.region_code_for_number(phonenumbers.parse(value))
            except phonenumbers.NumberParseException:
                continue
            if region:
                seen[region] += 1
        elif kind == "domain":
            suffix = host_parts(value).suffix.rsplit(".", 1)[-1]
            if len(suffix) == 2 and suffix not in GENERIC_COUNTRY_CODES:
                seen[suffix.upper()] += 1
    return [country for country, _ in seen.most_common()]


def record_evaluation(
    session: Session, company_id: int, policy: Policy, verdict: Eligibility
) -> LegalEvaluation:
    """Store the decision (once per company, policy, decision and evidence relied on)."""
    relied_on = [f.evidence_id for f in verdict.cited]
    borderline = [f.evidence_id for f in verdict.borderline]
    fingerprint = notice_status.digest(
        f"{company_id}|{policy.version}|{verdict.eligible}|{verdict.basis}|{relied_on}|{borderline}"
    )
    (row,) = insert_ignore_select(
        session,
        LegalEvaluation,
        [
            {
                "fingerprint": fingerprint,
                "company_id": company_id,
                "policy_version": policy.version,
                "eligible": verdict.eligible,
                "basis": verdict.basis,
                "reason": verdict.reason,
                "relied_on": relied_on,
                "borderline": borderline,
            }
        ],
        "fingerprint",
    )
    assert isinstance(row, LegalEvaluation)
    return row


def _already_addressed(session: Session, company_id: int, cited: list[int]) -> bool:
    """Whether a new notice would repeat one: the company was already told, or counsel already
    closed a notice on exactly this evidence."""
    for status, cited_before in session.execute(
        select(LegalNotice.status, LegalNotice.cited_evidence).where(
            LegalNotice.company_id == company_id
        )
    ):
        if status in ADDRESSED or sorted(cited_before) == sorted(cited):
            return True
    return False


def draft_notice(
    session: Session,
    company: Company,
    policy: Policy,
    verdict: Eligibility,
    standing: Standing,
    *,
    evaluation_id: int,
    note: str,
    now: dt.datetime,
    kind: str = "notice",
    previous: LegalNotice | None = None,
) -> LegalNotice:
    """A new notice with its own reference (of ``now``'s year) and its first revision,
    submitted for review; an escalation follows ``previous`` in its language."""
    notice = LegalNotice(
        # A placeholder until the row has its id, from which the reference is made.
        reference=uuid.uuid4().hex[:32],
        company_id=company.id,
        policy_version=policy.version,
        kind=kind,
        previous_id=previous.id if previous else None,
        basis=verdict.basis or "",
        evaluation_id=evaluation_id,
        language=previous.language if previous else language_for(countries(session, company.id)),
        status="draft",
        revision=1,
        cited_evidence=[],
        activity_first=verdict.activity_first,
        activity_last=verdict.activity_last,
        body="",
        body_sha256="",
    )
    session.add(notice)
    session.flush()
    notice.reference = notice_status.reference(notice.id, now.year)
    body = _render(session, company, notice, policy=policy, verdict=verdict, standing=standing)
    notice_status.add_revision(
        session, notice, body, [f.evidence_id for f in verdict.cited], first=True
    )
    history.record(session, notice, note)
    notice_status.move(session, notice, "pending_review", "submitted for review", actor=SYSTEM)
    return notice


def _revise(
    session: Session,
    notice: LegalNotice,
    *,
    body: str,
    cited: list[int],
    verdict: Eligibility,
    evaluation_id: int,
) -> None:
    was = notice.status
    why = "new evidence" if cited != notice.cited_evidence else "the company's details changed"
    if was != "draft":
        superseded = " (the approved text is superseded)" if was == "approved" else ""
        notice_status.move(session, notice, "draft", f"{why}{superseded}", actor=SYSTEM)
    notice_status.add_revision(session, notice, body, cited)
    notice.basis = verdict.basis or notice.basis
    notice.evaluation_id = evaluation_id
    notice.activity_first = verdict.activity_first
    notice.activity_last = verdict.activity_last
    notice_status.move(
        session,
        notice,
        "pending_review",
        f"revision {notice.revision} submitted for review: {len(cited)} items cited",
        actor=SYSTEM,
    )


def _accounts_banned(session: Session, company_id: int) -> int:
    return (
        session.scalar(
            select(func.count(func.distinct(AccountCompanyLink.account_id)))
            .join(EnforcementAction, EnforcementAction.account_id == AccountCompanyLink.account_id)
            .where(
                AccountCompanyLink.company_id == company_id,
                EnforcementAction.action == "ban",
                EnforcementAction.status == "active",
            )
        )
        or 0
    )


def _brands(session: Session, company: Company, min_confidence: float) -> tuple[str, ...]:
    """Other names the company's strongly linked evidence goes by (at most five)."""
    names: dict[str, str] = {}
    for indicators in session.scalars(
        select(Evidence.indicators)
        .join(EvidenceLink, EvidenceLink.evidence_id == Evidence.id)
        .where(EvidenceLink.company_id == company.id, EvidenceLink.confidence >= min_confidence)
        .order_by(Evidence.id)
    ):
        for name in indicators.get("names", []):
            normal = normalize_company_name(name)
            if normal and normal != company.normalized_name:
                names.setdefault(normal, name)
    return tuple(list(names.values())[:5])
