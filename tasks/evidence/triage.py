"""Which readings of off-platform documents a person should check: every claim the reader found
(a claim can end in a legal notice) and the borderline readings where a claim it missed would
hide. Checked readings become the evidence reader's labels (``tasks.evidence.verdicts``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session

from infra.db.models import Evidence, EvidenceVerdict

# A model's reading below its threshold but at least this likely a claim is worth a person's
# look. With a model trained on one writer's pages and read on the other two writers' 712 (in
# the corpus, ``tasks/offline/data/corpus``), 10 of its 12 missed claims scored at least 0.1,
# against 40 of the 350 pages it rightly read as no claim.
BORDERLINE_PROBABILITY = 0.1


def borderline() -> ColumnElement[bool]:
    """A reading that found no claim, yet could have missed one.

    A model's reading stores its calibrated ``claim_probability``: borderline when that is at
    least ``BORDERLINE_PROBABILITY``. The rules store no confidence, so a rules' reading is
    borderline when the document speaks in no voice but a seller's (no news, policy, forum,
    job, review, official... voice outweighs its selling; ``indicators["voice"]`` is null) and
    gives a phone number or an e-mail address to reach it: on the project's labelled set
    (``bulkguard evidence evaluate``) 5 of the 8 claims the rules miss fall here, against 14 of
    the 73 documents they rightly read as no claim."""
    probability = Evidence.indicators["claim_probability"].as_float()
    voice = Evidence.indicators["voice"].as_string()
    phone = Evidence.indicators[("phones", 0)].as_string()
    email = Evidence.indicators[("emails", 0)].as_string()
    by_rules = and_(
        probability.is_(None), voice.is_(None), or_(phone.is_not(None), email.is_not(None))
    )
    return and_(
        Evidence.claims_bulk.is_(False),
        or_(probability >= BORDERLINE_PROBABILITY, by_rules),
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
