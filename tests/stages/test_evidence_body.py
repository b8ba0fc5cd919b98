"""The evidence bodies (ingest, link) on a real database (SQLite and PostgreSQL), rolled back
after each test."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from infra.db.models import (
    Account,
    AccountCompanyLink,
    Company,
    CompanyIndicator,
    Evidence,
    EvidenceLink,
    utcnow,
)
from infra.number_hash import number_keys
from tasks.accounts.phones import account_number
from tasks.evidence.ingest import ingest_documents
from tasks.evidence.link import link_evidence
from tasks.evidence.triage import BORDERLINE_PROBABILITY, borderline
from tasks.messages import EvaluateCompany, IngestEvidence, LinkEvidence
from tasks.outcome import Outcome
from tests.evidence_model import small_model

CLAIM_TEXT = (
    "We send bulk WhatsApp messages to 100,000 customers. "
    "Call +421 905 318 274 or write to sales@acmereach.sk."
)


def document(
    text: str = CLAIM_TEXT,
    *,
    url: str | None = "https://www.acmereach.sk/offer",
    publisher: str | None = "Acme Reach s.r.o.",
    title: str = "Acme Reach",
    observed_at: str = "2020-01-15T10:00:00+01:00",
    kind: str = "public_claim",
) -> dict[str, Any]:
    return {
        "source": "off_platform",
        "kind": kind,
        "observed_at": observed_at,
        "url": url,
        "publisher": publisher,
        "title": title,
        "text": text,
    }


def ingest(session: Session, *documents: Any) -> Outcome:
    return ingest_documents(session, IngestEvidence(documents=list(documents)), now=utcnow())


def ingested_ids(session: Session, *documents: Any) -> list[int]:
    """The evidence ids of ``documents``, as ingest hands them to linking."""
    (follow_up,) = ingest(session, *documents).follow_ups
    assert isinstance(follow_up.message, LinkEvidence)
    return follow_up.message.evidence_ids


def link(session: Session, ids: list[int]) -> Outcome:
    return link_evidence(session, LinkEvidence(evidence_ids=ids))


def count(session: Session, model: Any) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def indicators_of(session: Session, company_id: int) -> set[tuple[str, str]]:
    rows = session.execute(
        select(CompanyIndicator.kind, CompanyIndicator.value).where(
            CompanyIndicator.company_id == company_id
        )
    )
    return {(kind, value) for kind, value in rows}


# ------------------------------------------------------------------------------ ingest


def test_valid_documents_become_evidence_handed_to_linking(session: Session) -> None:
    neutral = document(
        "Opening hours Monday to Friday.",
        url="https://shop.nabytok-dielna.sk/contact",
        publisher=None,
        title="",
        observed_at="2020-02-01T08:30:00+00:00",
        kind="other",
    )
    outcome = ingest(session, document(), neutral)

    assert outcome.summary == {"ingested": 2, "rejected": 0}
    assert outcome.rejected == []
    rows = session.scalars(select(Evidence).order_by(Evidence.id)).all()
    assert len(rows) == 2
    claim, other = rows
    assert (claim.source, claim.kind, claim.url) == (
        "off_platform",
        "public_claim",
        "https://www.acmereach.sk/offer",
    )
    # Stored as the same instant, in UTC, whatever offset it arrived with.
    assert claim.observed_at == dt.datetime(2020, 1, 15, 9, tzinfo=dt.UTC)
    assert claim.observed_at.utcoffset() == dt.timedelta(0)
    assert claim.claims_bulk is True
    assert claim.account_id is None
    # A notice quotes the sentence that makes the claim.
    assert claim.excerpt == "We send bulk WhatsApp messages to 100,000 customers."
    assert claim.indicators == {
        "domains": ["acmereach.sk"],
        "emails": ["sales@acmereach.sk"],
        "phones": ["+421905318274"],
        "claims": ["bulk"],
        "names": ["Acme Reach s.r.o."],
        "voice": None,
        "reader": "rules",
        "claim_probability": None,
    }
    assert len(claim.content_hash) == 64

    assert other.kind == "other"
    assert other.claims_bulk is False
    assert other.excerpt == "Opening hours Monday to Friday."
    assert other.indicators == {
        "domains": ["nabytok-dielna.sk"],
        "emails": [],
        "phones": [],
        "claims": [],
        "names": ["nabytok-dielna"],  # no publisher: the page's brand, here its domain's name
        "voice": None,
        "reader": "rules",
        "claim_probability": None,
    }

    (follow_up,) = outcome.follow_ups
    assert follow_up.message == LinkEvidence(evidence_ids=[claim.id, other.id])
    assert follow_up.dedupe_key.startswith("evidence.link:ingest:")


def test_slovak_claims_are_recognised_without_their_diacritics(session: Session) -> None:
    text = "Hromadné správy cez WhatsApp pre vašu firmu, volajte +421 905 472 861."
    ingest(session, document(text, url="https://posielac.sk/"))
    evidence = session.scalars(select(Evidence)).one()
    assert evidence.claims_bulk is True
    assert evidence.indicators["claims"] == ["bulk"]
    assert evidence.indicators["phones"] == ["+421905472861"]


def test_the_model_passed_in_reads_and_is_recorded(session: Session) -> None:
    model = small_model()
    outcome = ingest_documents(
        session, IngestEvidence(documents=[document()]), now=utcnow(), model=model
    )
    assert outcome.summary == {"ingested": 1, "rejected": 0}
    evidence = session.scalars(select(Evidence)).one()
    assert evidence.indicators["reader"] == model.version
    probability = evidence.indicators["claim_probability"]
    assert evidence.claims_bulk is (probability >= model.threshold)
    # What the rules find is the same page read either way: its contacts and passages.
    assert evidence.indicators["phones"] == ["+421905318274"]


def test_a_bad_document_rejects_only_itself(session: Session) -> None:
    naive = document(observed_at="2020-01-15T10:00:00")
    empty = document("", url="https://other.prazdna-stranka.sk/")
    good = document()
    outcome = ingest(session, naive, good, empty, "not a document")

    assert outcome.summary == {"ingested": 1, "rejected": 3}
    reasons = {r.record_index: r.reason for r in outcome.rejected}
    assert reasons == {
        0: "observed_at: Input should have timezone info",
        2: "text: String should have at least 1 character",
        3: "(record): Input should be a valid dictionary or instance of Document",
    }
    # What arrived is kept as it was, for the dead-letter store.
    assert [r.payload for r in outcome.rejected] == [naive, empty, "not a document"]
    (evidence,) = session.scalars(select(Evidence)).all()
    assert evidence.url == good["url"]
    (follow_up,) = outcome.follow_ups
    assert follow_up.message == LinkEvidence(evidence_ids=[evidence.id])


def test_ingesting_the_same_documents_again_adds_nothing(session: Session) -> None:
    docs = [document(), document("Shop opening hours.", url="https://shop.nabytok-dielna.sk/")]
    first = ingest(session, *docs)
    second = ingest(session, *reversed(docs))

    assert count(session, Evidence) == 2
    assert [f.message for f in second.follow_ups] == [f.message for f in first.follow_ups]
    assert [f.dedupe_key for f in second.follow_ups] == [f.dedupe_key for f in first.follow_ups]


def test_different_documents_are_handed_on_under_different_keys(session: Session) -> None:
    (first,) = ingest(session, document()).follow_ups
    (second,) = ingest(session, document(observed_at="2020-03-01T00:00:00+00:00")).follow_ups
    assert count(session, Evidence) == 2
    assert first.dedupe_key != second.dedupe_key


def test_a_batch_of_only_bad_documents_hands_nothing_on(session: Session) -> None:
    outcome = ingest(session, document(observed_at="yesterday"), {"text": "no date"})
    assert outcome.summary == {"ingested": 0, "rejected": 2}
    assert outcome.follow_ups == []
    assert [r.record_index for r in outcome.rejected] == [0, 1]
    assert count(session, Evidence) == 0


# ------------------------------------------------------------------------------ link


def test_a_bulk_claim_creates_its_company(session: Session) -> None:
    ids = ingested_ids(session, document())
    outcome = link(session, ids)

    company = session.scalars(select(Company)).one()
    assert (company.name, company.normalized_name) == ("Acme Reach s.r.o.", "acme reach")
    assert indicators_of(session, company.id) == {
        ("domain", "acmereach.sk"),
        ("email", "sales@acmereach.sk"),
        ("phone", "+421905318274"),
    }
    evidence_link = session.scalars(select(EvidenceLink)).one()
    assert (evidence_link.evidence_id, evidence_link.company_id) == (ids[0], company.id)
    assert (evidence_link.method, evidence_link.confidence) == ("created_from_evidence", 1.0)

    assert outcome.summary == {"evidence": 1, "links": 1, "companies": 1}
    (follow_up,) = outcome.follow_ups
    assert follow_up.message == EvaluateCompany(company_id=company.id)
    assert re.fullmatch(rf"legal\.evaluate:{company.id}:[0-9a-f]{{24}}", follow_up.dedupe_key)


def test_a_claim_published_elsewhere_names_the_publishers_own_site_first(
    session: Session,
) -> None:
    text = (
        "We send bulk WhatsApp messages for you, unlimited. "
        "See partner.reach-partners.com for references."
    )
    link(session, ingested_ids(session, document(text, url="https://acmereach.sk/")))
    company = session.scalars(select(Company)).one()
    assert indicators_of(session, company.id) == {
        ("domain", "acmereach.sk"),
        ("domain", "reach-partners.com"),
    }


def test_a_second_document_on_the_same_domain_links_to_the_same_company(
    session: Session,
) -> None:
    link(session, ingested_ids(session, document()))
    company = session.scalars(select(Company)).one()

    contact = document(
        "Contact us for an appointment.",
        url="https://acmereach.sk/contact",
        publisher=None,
        title="",
        kind="other",
    )
    ids = ingested_ids(session, contact)
    outcome = link(session, ids)

    assert count(session, Company) == 1
    evidence_link = session.scalars(
        select(EvidenceLink).where(EvidenceLink.evidence_id == ids[0])
    ).one()
    assert evidence_link.company_id == company.id
    assert (evidence_link.method, evidence_link.confidence) == ("domain", 0.95)
    assert outcome.summary == {"evidence": 1, "links": 1, "companies": 1}
    assert [f.message for f in outcome.follow_ups] == [EvaluateCompany(company_id=company.id)]


def test_documents_of_one_company_in_one_batch_make_one_company(session: Session) -> None:
    later = document(
        "WhatsApp blast service for shops.",
        url="https://acmereach.sk/pricing",
        observed_at="2020-02-01T00:00:00+00:00",
    )
    ids = ingested_ids(session, document(), later)
    outcome = link(session, ids)

    company = session.scalars(select(Company)).one()
    methods = dict(session.execute(select(EvidenceLink.evidence_id, EvidenceLink.method)).all())
    assert methods == {ids[0]: "created_from_evidence", ids[1]: "domain"}
    assert outcome.summary == {"evidence": 2, "links": 2, "companies": 1}
    assert [f.message for f in outcome.follow_ups] == [EvaluateCompany(company_id=company.id)]


def test_a_document_without_claim_or_known_indicator_creates_nothing(session: Session) -> None:
    neutral = document(
        "Handmade furniture, delivered in two weeks.",
        url="https://furniture.nabytok-dielna.sk/",
        publisher="Furniture Shop",
        kind="other",
    )
    outcome = link(session, ingested_ids(session, neutral))

    assert outcome.summary == {"evidence": 1, "links": 0, "companies": 0}
    assert outcome.follow_ups == []
    assert count(session, Company) == 0
    assert count(session, CompanyIndicator) == 0
    assert count(session, EvidenceLink) == 0


def test_relinking_the_same_evidence_adds_no_link(session: Session) -> None:
    contact = document("Contact us.", url="https://acmereach.sk/contact", publisher=None)
    ids = ingested_ids(session, document(), contact)
    first = link(session, ids)
    second = link(session, ids)

    assert count(session, Company) == 1
    assert count(session, EvidenceLink) == 2
    assert count(session, CompanyIndicator) == 3  # its keys: a name is none
    assert second.follow_ups == first.follow_ups


def test_another_batch_of_evidence_asks_for_another_evaluation(session: Session) -> None:
    (first,) = link(session, ingested_ids(session, document())).follow_ups
    contact = document("Contact us.", url="https://acmereach.sk/contact", publisher=None)
    (second,) = link(session, ingested_ids(session, contact)).follow_ups
    assert first.message == second.message
    assert first.dedupe_key != second.dedupe_key


def test_a_published_phone_of_a_registered_account_links_the_account(session: Session) -> None:
    session.add(Account(account_id="acct-1", **account_number("+421905318274", number_keys())))
    session.add(Account(account_id="acct-2", **account_number("+421905999888", number_keys())))
    session.flush()
    ids = ingested_ids(session, document())
    link(session, ids)

    company = session.scalars(select(Company)).one()
    account_link = session.scalars(select(AccountCompanyLink)).one()
    assert (account_link.account_id, account_link.company_id, account_link.evidence_id) == (
        "acct-1",
        company.id,
        ids[0],
    )
    assert (account_link.method, account_link.confidence) == ("published_phone", 1.0)

    link(session, ids)
    assert count(session, AccountCompanyLink) == 1


def test_a_page_carrying_a_known_number_is_about_the_company_not_its_own(
    session: Session,
) -> None:
    link(session, ingested_ids(session, document()))
    company = session.scalars(select(Company)).one()

    listing = document(
        "Marketing services, call +421 905 318 274.",
        url="https://directory.firmy-adresar.sk/listing/17",
        publisher=None,
        kind="other",
    )
    ids = ingested_ids(session, listing)
    link(session, ids)

    evidence_link = session.scalars(
        select(EvidenceLink).where(EvidenceLink.evidence_id == ids[0])
    ).one()
    assert evidence_link.company_id == company.id
    # A directory speaks about the company: a weak link for counsel, not the company's own key.
    assert (evidence_link.method, evidence_link.confidence) == ("mentioned", 0.5)


def test_a_document_observed_in_the_future_is_rejected(session: Session) -> None:
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).isoformat()
    outcome = ingest(session, document(observed_at=future), document("Shop opening hours."))

    (rejection,) = outcome.rejected
    assert rejection.record_index == 0
    assert "is in the future" in rejection.reason
    assert outcome.summary == {"ingested": 1, "rejected": 1}


def test_borderline_readings_by_model_confidence_and_by_the_rules(session: Session) -> None:
    repairs = "Blast Deals: we fix phones. Call +421 905 333 444 or write to shop@blastdeals.sk."
    bicycles = "We repair bicycles in Bratislava, Monday to Friday."
    ids = ingested_ids(
        session,
        *(document(repairs, url=f"https://deals{n}.sk/", publisher=None) for n in range(3)),
        document(bicycles, url="https://bikes.sk/", publisher=None),
        document(),  # a claim: listed for its own sake, never borderline
    )
    rows = {e.id: e for e in session.scalars(select(Evidence).where(Evidence.id.in_(ids)))}
    # As a model would have stored its readings: unsure, sure, and one read by the rules.
    for evidence_id, probability in zip(ids, (0.3, 0.02, None), strict=False):
        rows[evidence_id].indicators = {
            **rows[evidence_id].indicators,
            "claim_probability": probability,
        }
    session.flush()
    found = set(session.scalars(select(Evidence.id).where(borderline())))
    # The model's unsure reading and the rules' seller page with contacts; not the model's sure
    # one (whatever its contacts), not a page that gives none, not a claim.
    assert found == {ids[0], ids[2]}
    assert 0.02 < BORDERLINE_PROBABILITY <= 0.3  # the figures above straddle the floor
