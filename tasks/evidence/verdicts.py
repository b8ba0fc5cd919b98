"""A person's verdict on how the reader read an off-platform document: it is an offer of bulk or
automated sending (``confirmed``) or it is not (``rejected``), with the reason. One verdict per
piece of evidence: a later one replaces the earlier, and both stay in the audit trail (entity
``evidence``). The verdicts are the evidence reader's labels (``bulkguard labels export
--evidence``)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.db.models import AuditEvent, Evidence, EvidenceVerdict
from infra.users import Actor, authorize
from tasks.outcome import Outcome

VERDICTS = ("confirmed", "rejected")


class VerdictError(ValueError):
    """A verdict that cannot be recorded, with the reason."""


def record_verdict(
    session: Session,
    evidence_id: int,
    verdict: str,
    reason: str,
    *,
    actor: Actor,
    now: dt.datetime,
) -> Outcome:
    """Record ``actor``'s ``verdict`` on evidence ``evidence_id`` at ``now``, replacing any
    earlier one. Reviewers judge readings, as they judge review cases and appeals."""
    user = authorize(session, actor, "reviewer")
    if verdict not in VERDICTS:
        raise VerdictError(f"a verdict is {' or '.join(VERDICTS)}, not {verdict!r}")
    if not reason.strip():
        raise VerdictError("a verdict needs a reason, for the record and for the label")
    # Locked, so two people judging the same evidence at once leave one verdict and two records.
    item = session.get(Evidence, evidence_id, with_for_update=True)
    if item is None:
        raise LookupError(f"evidence {evidence_id} does not exist")
    if item.source != "off_platform" or item.document_id is None:
        raise VerdictError(f"evidence {evidence_id} is not a document the reader read")
    row = session.scalar(select(EvidenceVerdict).where(EvidenceVerdict.evidence_id == item.id))
    replaced = None
    if row is None:
        row = EvidenceVerdict(evidence_id=item.id)
        session.add(row)
    else:
        replaced = {
            "verdict": row.verdict,
            "reason": row.reason,
            "by": row.decided_by,
            "at": row.decided_at.isoformat(),
        }
    row.verdict = verdict
    row.reason = reason
    row.user_id = user.id
    row.decided_by = actor.name
    row.decided_at = now
    session.add(
        AuditEvent(
            entity="evidence",
            entity_id=item.id,
            event="verdict",
            details={"verdict": verdict, "reason": reason, "replaces": replaced},
            at=now,
            **actor.recorded(),
        )
    )
    session.flush()
    return Outcome({"evidence_id": item.id, "verdict": verdict, "replaced": replaced is not None})
