"""Which readings of off-platform documents a person should check: every claim the reader found
(a claim can end in a legal notice) and the borderline readings where a claim it missed would
hide. Checked readings become the evidence reader's labels (``tasks.evidence.verdicts``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session

from infra.db.models import Evidence, EvidenceVerdict


def borderline() -> ColumnElement[bool]:
    """A reading the reader did not find a claim in, yet could have missed one: the document
    speaks in no voice but a seller's (no news, policy, forum, job, review, official... voice
    outweighs its selling; ``indicators["voice"]`` is null) and gives a phone number or an
    e-mail address to reach it.

    The rules store no confidence (a model's reading stores ``claim_probability``, not read
    here yet), so this is read from what every reading stores. On the project's
    labelled set (``bulkguard evidence evaluate``) 5 of the 8 claims it misses fall here,
    against 14 of the 73 documents it rightly reads as no claim: under a quarter of its
    non-claims hold most of its misses. The rest are pages in another voice, whose keys link
    only weakly and are never acted on, and pages that give no way to reach anyone."""
    voice = Evidence.indicators["voice"].as_string()
    phone = Evidence.indicators[("phones", 0)].as_string()
    email = Evidence.indicators[("emails", 0)].as_string()
    return and_(
        Evidence.claims_bulk.is_(False),
        voice.is_(None),
        or_(phone.is_not(None), email.is_not(None)),
    )


def _for_triage() -> ColumnElement[bool]:
    return and_(
        Evidence.source == "off_platform",
        Evidence.document_id.is_not(None),
        or_(Evidence.claims_bulk.is_(True), borderline()),
    )


@dataclass(frozen=True)
class Triaged:
    evidence: Evidence
    verdict: EvidenceVerdict | None  # the standing verdict, if a person gave one


def waiting(session: Session) -> int:
    """How many readings wait for a person's verdict."""
    found = session.scalar(
        select(func.count())
        .select_from(Evidence)
        .outerjoin(EvidenceVerdict, EvidenceVerdict.evidence_id == Evidence.id)
        .where(_for_triage(), EvidenceVerdict.id.is_(None))
    )
    return found or 0


def queue(session: Session, *, offset: int, limit: int) -> tuple[list[Triaged], int]:
    """One page of the readings to check, and how many there are: those without a verdict
    first, oldest received first (the order they came in); then those decided, latest verdict
    first, for a second look."""
    query = (
        select(Evidence, EvidenceVerdict)
        .outerjoin(EvidenceVerdict, EvidenceVerdict.evidence_id == Evidence.id)
        .where(_for_triage())
        .order_by(
            case((EvidenceVerdict.id.is_(None), 0), else_=1),
            EvidenceVerdict.decided_at.desc(),
            Evidence.received_at,
            Evidence.id,
        )
    )
    total = session.scalar(select(func.count()).select_from(Evidence).where(_for_triage())) or 0
    rows = session.execute(query.offset(offset).limit(limit)).all()
    return [Triaged(evidence, verdict) for evidence, verdict in rows], total
