"""On-platform evidence: a banned account's business profile points at the company behind it.

``evidence.record_bans``'s body reads the bans that enforcement put in force from their ids, with
the records they were decided on, makes each whose account carries a business profile one item
of evidence (once, however often it is asked), and links them to companies as ``evidence.link``
does, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.db.models import EnforcementAction
from tasks.accounts.signals import AccountSignals
from tasks.enforcement.enforce import scored_records
from tasks.evidence import store
from tasks.evidence.link import link_evidence
from tasks.evidence.reading.indicators import email_domain, registered_domain
from tasks.evidence.reading.shared_domains import is_shared
from tasks.messages import LinkEvidence, RecordBanEvidence
from tasks.outcome import Outcome


@dataclass(frozen=True)
class Ban:
    """What evidence needs to know of one ban: the action, its decision and the record scored."""

    action_id: int
    score: float
    model_version: str
    record: AccountSignals


def record_ban_evidence(session: Session, request: RecordBanEvidence) -> Outcome:
    """The bans among ``request.action_ids`` as evidence, linked to the companies they reach."""
    actions = session.scalars(
        select(EnforcementAction)
        .where(EnforcementAction.id.in_(request.action_ids), EnforcementAction.action == "ban")
        .order_by(EnforcementAction.id)
    ).all()
    records = scored_records(session, actions)
    evidence_ids = record_bans(
        session,
        [Ban(a.id, a.score, a.model_version, records[a.id]) for a in actions if a.id in records],
    )
    if not evidence_ids:
        return Outcome({"bans": len(actions), "evidence": 0})
    linked = link_evidence(session, LinkEvidence(evidence_ids=evidence_ids))
    linked.summary = {"bans": len(actions), **linked.summary}
    return linked


def record_bans(session: Session, bans: Sequence[Ban]) -> list[int]:
    """Evidence ids of the bans whose accounts carry a business profile (stored once each)."""
    items = [_evidence(ban) for ban in bans if ban.record.business is not None]
    return store.store(session, items) if items else []


def _evidence(ban: Ban) -> store.NewEvidence:
    record = ban.record
    profile = record.business
    assert profile is not None
    # A profile's site on a shared platform or a free-mail address names no company's domain.
    domains = sorted(
        {
            d
            for d in (registered_domain(profile.website), email_domain(profile.email))
            if d and not is_shared(d)
        }
    )
    return store.NewEvidence(
        key=f"enforcement-action:{ban.action_id}",
        source="on_platform",
        kind="enforcement",
        observed_at=record.observed_at,
        url=None,
        account_id=record.account_id,
        action_id=ban.action_id,
        claims_bulk=False,
        excerpt=f"account {record.account_id} banned for automated or bulk messaging "
        f"(score {ban.score:.3f}, model {ban.model_version})",
        indicators={
            "names": [profile.name] if profile.name else [],
            "domains": domains,
            "emails": [profile.email.lower()] if profile.email else [],
            "phones": [record.phone],
        },
    )
