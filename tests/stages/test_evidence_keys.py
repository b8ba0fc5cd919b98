"""Companies are tied by strong keys only (own domain, e-mail address, published number), on a
real database (SQLite and PostgreSQL): never by a shared platform domain, never by a name."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.db.models import Company, EvidenceLink, LegalNotice, utcnow
from tasks.evidence.ingest import ingest_documents
from tasks.evidence.link import link_evidence
from tasks.evidence.resolve import NAME_CEILING
from tasks.legal.evaluate import evaluate_company
from tasks.legal.policy import load_policy
from tasks.messages import EvaluateCompany, IngestEvidence, LinkEvidence
from tests.records import T0
from tests.seed import banned_profile

POLICY = load_policy("2019-12-07.2")


def claim(text: str, url: str, publisher: str, when: str = "2020-02-01T10:00:00+00:00") -> Any:
    return {
        "source": "off_platform",
        "kind": "advertisement",
        "observed_at": when,
        "url": url,
        "publisher": publisher,
        "text": f"Bulk WhatsApp marketing for your shop. {text}",
    }


def ingest_and_link(session: Session, *documents: Any) -> list[int]:
    """Ingest and link ``documents``; their evidence ids."""
    (follow_up,) = ingest_documents(
        session, IngestEvidence(documents=list(documents)), now=utcnow()
    ).follow_ups
    assert isinstance(follow_up.message, LinkEvidence)
    ids = follow_up.message.evidence_ids
    link_evidence(session, follow_up.message)
    return ids


def companies_of(session: Session, evidence_id: int, *, strong: bool = True) -> set[int]:
    rows = session.scalars(
        select(EvidenceLink).where(EvidenceLink.evidence_id == evidence_id)
    ).all()
    return {r.company_id for r in rows if (r.confidence >= POLICY.min_link_confidence) == strong}


def test_vendors_sharing_only_platform_links_stay_apart(session: Session) -> None:
    first, second, third = ingest_and_link(
        session,
        claim("Chat: https://wa.me/447911123456 https://bit.ly/zap", "https://zapblast.io/", "Z"),
        claim("Chat: https://wa.me/447911654321 https://bit.ly/zap", "https://sendpro.co/", "S"),
        claim("Orders: https://api.whatsapp.com/send?phone=447700123456", "https://m.biz/", "M"),
    )
    owners = [companies_of(session, e) for e in (first, second, third)]
    assert all(len(o) == 1 for o in owners)
    assert len(set().union(*owners)) == 3
    keys = {str(value) for (value,) in session.execute(select(Company.origin_key))}
    assert not any("wa.me" in k or "bit.ly" in k or "whatsapp.com" in k for k in keys)


def test_a_page_on_a_hosting_site_does_not_make_the_site_a_company(session: Session) -> None:
    acme, zeta = ingest_and_link(
        session,
        claim("Write to acme.zap@gmail.com", "https://www.facebook.com/acmezap", "Acme Zap"),
        claim("See zetasender.sk", "https://www.facebook.com/zeta", "Zeta Sender"),
    )
    assert companies_of(session, acme) != companies_of(session, zeta)
    (zeta_company,) = companies_of(session, zeta)
    assert session.get_one(Company, zeta_company).origin_key == "domain:zetasender.sk"
    (acme_company,) = companies_of(session, acme)
    # A free-mail address is a key by the full address, never by its provider's domain.
    assert session.get_one(Company, acme_company).origin_key == "email:acme.zap@gmail.com"


def test_a_free_mail_address_links_by_the_full_address(session: Session) -> None:
    a, b, later = ingest_and_link(
        session,
        claim("Orders: sales.a@gmail.com", "https://www.instagram.com/a", "A"),
        claim("Orders: sales.b@gmail.com", "https://www.instagram.com/b", "B"),
        claim("New prices! Orders: sales.a@gmail.com", "https://linktr.ee/a", "A again"),
    )
    assert companies_of(session, a) != companies_of(session, b)
    assert companies_of(session, later) == companies_of(session, a)


def test_same_name_in_two_countries_stays_two_companies(session: Session) -> None:
    sk, uk = ingest_and_link(
        session,
        claim("", "https://acmemedia.sk/", "Acme Media s.r.o."),
        claim("", "https://acmemedia.co.uk/", "Acme Media Ltd"),
    )
    (sk_company,) = companies_of(session, sk)
    (uk_company,) = companies_of(session, uk)
    assert sk_company != uk_company
    # The shared name is only a suggestion for review, below what the policy acts on.
    suggestion = session.scalars(
        select(EvidenceLink).where(
            EvidenceLink.evidence_id == uk, EvidenceLink.company_id == sk_company
        )
    ).one()
    assert (suggestion.method, suggestion.confidence) == ("name", NAME_CEILING)
    verdict = evaluate_company(
        session, EvaluateCompany(company_id=sk_company), policy=POLICY, now=utcnow()
    )
    reference = verdict.summary.get("notice")
    assert reference is not None  # eligible on its own claim
    notice = session.scalars(select(LegalNotice).where(LegalNotice.reference == reference)).one()
    assert uk not in notice.cited_evidence


def test_a_name_alone_makes_no_company_eligible(session: Session) -> None:
    # Reach Media's own claims stopped before 7 December 2019: not eligible on them.
    (old,) = ingest_and_link(
        session, claim("", "https://reachmedia.sk/", "Reach Media", "2019-06-01T10:00:00+00:00")
    )
    (company,) = companies_of(session, old)
    # Another party of the same name, with no key in common, claims after the cut-off.
    (new,) = ingest_and_link(session, claim("", "https://reach-media.pt/", "Reach Media Lda"))
    assert company not in companies_of(session, new)
    assert company in companies_of(session, new, strong=False)  # suggested for review only

    outcome = evaluate_company(
        session, EvaluateCompany(company_id=company), policy=POLICY, now=utcnow()
    )
    assert outcome.summary["eligible"] is False


def test_shells_sharing_a_number_are_one_company(session: Session) -> None:
    first, second = ingest_and_link(
        session,
        claim("Call +44 7911 123456", "https://shell-one.com/", "Shell One"),
        claim("WhatsApp us: wa.me/447911123456", "https://shell-two.net/", "Shell Two"),
    )
    assert companies_of(session, first) == companies_of(session, second)


def test_linking_again_makes_no_second_company(session: Session) -> None:
    ids = ingest_and_link(session, claim("", "https://zapblast.io/", "Zap Blast"))
    link_evidence(session, LinkEvidence(evidence_ids=ids))
    assert len(session.scalars(select(Company)).all()) == 1


def test_two_banned_accounts_of_the_same_name_are_two_companies(session: Session) -> None:
    when = T0 + dt.timedelta(days=1)
    ids = [
        *banned_profile(session, "b1", "+421905000111", {"name": "Quick Promo"}, observed_at=when)[
            1
        ],
        *banned_profile(session, "b2", "+421905000222", {"name": "Quick Promo"}, observed_at=when)[
            1
        ],
    ]
    link_evidence(session, LinkEvidence(evidence_ids=ids))
    keys = sorted(str(k) for (k,) in session.execute(select(Company.origin_key)))
    assert keys == ["account:b1", "account:b2"]
