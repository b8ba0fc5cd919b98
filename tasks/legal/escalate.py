"""``legal.escalate``'s body (beat): a sent notice left unanswered past its deadline, while the
activity goes on, is escalated, and the next step is drafted for counsel to review.

Only evidence dated after the notice was sent shows the activity continuing; a company that
answered (``acknowledged``) or shows nothing new is left alone.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.db.models import LegalNotice
from tasks.evidence.company_graph import live_company
from tasks.legal import history, notice_status
from tasks.legal.evaluate import (
    Standing,
    draft_notice,
    open_notice,
    record_evaluation,
    standing_evidence,
)
from tasks.legal.policy import evaluate as evaluate_policy
from tasks.legal.policy import load_policy
from tasks.outcome import Outcome


def escalate_overdue(session: Session, *, now: dt.datetime) -> Outcome:
    overdue = session.scalars(
        select(LegalNotice)
        .where(LegalNotice.status == "sent", LegalNotice.respond_by < now)
        .order_by(LegalNotice.id)
        .with_for_update()
    ).all()
    drafted = []
    for notice in overdue:
        follow_up = _escalate(session, notice, now)
        if follow_up is not None:
            drafted.append(follow_up.reference)
    return Outcome({"overdue": len(overdue), "escalated": len(drafted), "drafted": drafted})


def _escalate(session: Session, notice: LegalNotice, now: dt.datetime) -> LegalNotice | None:
    assert notice.sent_at is not None
    company = live_company(session, notice.company_id)
    if open_notice(session, company.id) is not None:
        return None  # a notice is already on its way to counsel
    policy = load_policy(notice.policy_version)
    standing = standing_evidence(session, company.id)
    sent_at = notice.sent_at
    after = [f for f in standing.facts if f.observed_at > sent_at]
    verdict = evaluate_policy(after, policy)
    if not verdict.eligible:
        return None  # nothing dated after the notice: no sign the activity continues
    evaluation = record_evaluation(session, company.id, policy, verdict)
    cited = [f.evidence_id for f in verdict.cited]
    notice.escalated_at = now
    notice_status.move(
        session,
        notice,
        "escalated",
        f"no answer by {notice.respond_by:%Y-%m-%d}; evidence dated after sending: {cited}",
        actor=history.SYSTEM,
    )
    return draft_notice(
        session,
        company,
        policy,
        verdict,
        Standing(after, standing.cited),
        evaluation_id=evaluation.id,
        note=f"drafted: escalation of {notice.reference}",
        now=now,
        kind="escalation",
        previous=notice,
    )
