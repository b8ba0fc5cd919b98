"""On-platform evidence: a banned account's business profile points at the company behind it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from tasks.evidence import store
from tasks.evidence.reading.indicators import email_domain, registered_domain
from tasks.evidence.reading.shared_domains import is_shared
from tasks.scoring.signals import AccountSignals


@dataclass(frozen=True)
class Ban:
    """What evidence needs to know of one ban: the action, its decision and the record scored."""

    action_id: int
    score: float
    model_version: str
    record: AccountSignals


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
