"""Evidence through real workers: documents in by task name, companies and notices out.

Pages that talk about bulk WhatsApp without offering it (the platform's policy, news naming a
vendor, official API documentation, a denial) make no claim and no notice; vendors that share
only a platform link or a name stay apart; shells that publish one number, then one address,
are one company however many hops apart;
every page is kept whole and comes back byte for byte by its hash.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select

from infra.db.models import Company, Evidence, EvidenceLink, LegalNotice
from infra.db.session import session_scope
from tasks.evidence.documents import document_bytes
from tasks.messages import IngestEvidence
from tests.integration.waiting import count

AFTER_CUTOFF = "2020-03-02T09:00:00+00:00"


def page(url: str, text: str, publisher: str | None = None) -> dict[str, Any]:
    return {
        "source": "off_platform",
        "kind": "public_claim",
        "observed_at": AFTER_CUTOFF,
        "url": url,
        "publisher": publisher,
        "text": text,
    }


TALK_NOT_OFFER = [
    page(
        "https://faq.whatsapp.com/unauthorized-use",
        "WhatsApp is not for bulk or automated messaging. Accounts that send bulk messages or use "
        "automation to send messages are banned, and we take legal action against companies "
        "that offer such services.",
        "WhatsApp Help Center",
    ),
    page(
        "https://www.dennik-spravy.sk/ekonomika/2020/03/pokuty",
        "Platform sues vendor: the court heard that ZapMax advertised 'unlimited WhatsApp "
        "messages with no ban', the platform's lawyers said on Monday.",
        "Denník Správy",
    ),
    page(
        "https://developers.cloudapi-docs.dev/messages",
        "Send template messages to customers who opted in. Message templates must be approved "
        "before you broadcast them through the official Cloud API.",
        "Cloud API docs",
    ),
    page(
        "https://www.polite-crm.sk/",
        "Neponúkame hromadné správy cez WhatsApp. We do not offer bulk WhatsApp messaging; "
        "we only answer customers who write to us first.",
        "Polite CRM",
    ),
]

VENDORS = [
    page(
        "https://zapblaster.io/pricing",
        "Bulk WhatsApp sender: unlimited messages, anti-ban rotation. "
        "Chat with sales: https://wa.me/447911123456",
        "ZapBlaster",
    ),
    page(
        "https://sendmass.co/",
        "Send WhatsApp messages to thousands of unsaved numbers with our bulk sender. "
        "Support: https://wa.me/447911654321",
        "ZapBlaster Ltd",
    ),
]

SHELLS = [
    # Seen first, so it starts a company of its own, joined to the others two hops later.
    page(
        "https://third-blast.org/",
        "Kirim pesan WhatsApp massal tanpa batas, anti banned. Email: vendas@third-blast.org",
        "Third Blast",
    ),
    page(
        "https://blast-one.com/",
        "WhatsApp blast service: send 100,000 WhatsApp messages a day. Call +44 7700 123 456.",
        "Blast One",
    ),
    page(
        "https://second-blast.net/",
        "Disparo em massa no WhatsApp, mensagens ilimitadas. Planos a partir de R$ 49. WhatsApp: "
        "https://api.whatsapp.com/send?phone=447700123456",
        "Second Blast",
    ),
    page(
        "https://second-blast.net/contato",
        "Disparo em massa no WhatsApp sem bloqueio. Fale com vendas@third-blast.org",
        "Second Blast",
    ),
]


def companies_of(url: str) -> set[int]:
    with session_scope() as session:
        rows = session.execute(
            select(EvidenceLink.company_id, EvidenceLink.confidence)
            .join(Evidence, Evidence.id == EvidenceLink.evidence_id)
            .where(Evidence.url == url)
        ).all()
    return {company for company, confidence in rows if confidence >= 0.7}


def test_only_offers_make_companies_and_notices(start: Callable[..., Any]) -> None:
    workers = start({"evidence": 1, "legal": 1})
    documents = TALK_NOT_OFFER + VENDORS + SHELLS
    workers.app.send_task(IngestEvidence.TASK, kwargs={"documents": documents})
    workers.wait_for(lambda: count(Evidence) == len(documents), what="documents stored")
    # Four vendor companies' worth of evaluation: the two vendors and the shells' one company.
    workers.wait_for(lambda: count(LegalNotice) == 3, timeout=90, what="notices drafted")

    with session_scope() as session:
        claims = dict(session.execute(select(Evidence.url, Evidence.claims_bulk)).all())
    assert {d["url"]: claims[d["url"]] for d in TALK_NOT_OFFER} == {
        d["url"]: False for d in TALK_NOT_OFFER
    }
    assert all(companies_of(d["url"]) == set() for d in TALK_NOT_OFFER)

    (first,) = companies_of(VENDORS[0]["url"])
    (second,) = companies_of(VENDORS[1]["url"])
    assert first != second  # one name, and a wa.me link each: two companies

    # One published number, then a shared address: one company across the hops.
    (shell,) = companies_of(SHELLS[1]["url"])
    assert all(companies_of(d["url"]) == {shell} for d in SHELLS)

    with session_scope() as session:
        noticed = set(session.scalars(select(LegalNotice.company_id)))
        assert noticed == {first, second, shell}
        assert session.scalar(select(func.count()).where(Company.merged_into.is_(None))) == 3
        # Every page is kept whole and comes back byte for byte by its hash.
        for doc in documents:
            raw = doc["text"].encode()
            assert document_bytes(session, hashlib.sha256(raw).hexdigest()) == raw
