"""``legal.escalate``'s body (beat): drafts that waited too long for a person are flagged."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.db.models import LegalNotice
from tasks.legal import history
from tasks.outcome import Outcome

# Drafts waiting longer than this for a decision are escalated to the legal team lead.
ESCALATE_AFTER = dt.timedelta(hours=48)


def escalate_stale(session: Session, *, now: dt.datetime) -> Outcome:
    stale = session.scalars(
        select(LegalNotice).where(
            LegalNotice.status == "awaiting_approval",
            LegalNotice.escalated_at.is_(None),
            LegalNotice.created_at < now - ESCALATE_AFTER,
        )
    ).all()
    for notice in stale:
        notice.escalated_at = now
        history.record(session, notice, f"escalated: no decision within {ESCALATE_AFTER}")
    return Outcome({"escalated": len(stale)})
