"""Documents preserved whole on a real database (SQLite and PostgreSQL): content-addressed,
compressed, retrievable byte for byte, seen again as a sighting rather than a copy."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.db.models import Document, Evidence, utcnow
from tasks.evidence import documents
from tasks.evidence.documents import document_bytes
from tasks.evidence.ingest import ingest_documents
from tasks.messages import IngestEvidence
from tasks.outcome import Outcome

HTML = """<!doctype html><html><head><title>ZapBlaster</title></head><body>
<p>Bulk WhatsApp sender: unlimited messages, anti-ban rotation. Žiadne limity.</p>
<a href="https://wa.me/447911123456">Chat</a></body></html>"""


def doc(text: str = HTML, observed_at: str = "2020-03-01T10:00:00+00:00", **extra: Any) -> Any:
    return {"observed_at": observed_at, "url": "https://zapblaster.io/", "text": text, **extra}


def ingest(session: Session, *items: Any) -> Outcome:
    return ingest_documents(session, IngestEvidence(documents=list(items)), now=utcnow())


def test_a_document_is_kept_whole_and_retrievable_by_its_hash(session: Session) -> None:
    ingest(session, doc(submitted_by="crawler-7"))
    stored = session.scalars(select(Document)).one()
    raw = HTML.encode()
    assert stored.sha256 == hashlib.sha256(raw).hexdigest()
    assert (stored.content_type, stored.size, stored.truncated) == ("text/html", len(raw), False)
    assert document_bytes(session, stored.sha256) == raw
    evidence = session.scalars(select(Evidence)).one()
    assert (evidence.document_id, evidence.submitted_by) == (stored.id, "crawler-7")


def test_seen_again_later_is_a_sighting_not_a_copy(session: Session) -> None:
    ingest(session, doc())
    ingest(session, doc(observed_at="2020-06-01T10:00:00+00:00"))
    assert len(session.scalars(select(Document)).all()) == 1
    sightings = session.scalars(select(Evidence).order_by(Evidence.observed_at)).all()
    assert len(sightings) == 2
    assert sightings[0].document_id == sightings[1].document_id


def test_a_declared_content_type_is_kept(session: Session) -> None:
    ingest(session, doc("# ZapBlaster\n\nBulk WhatsApp sender.", content_type="text/markdown"))
    assert session.scalars(select(Document.content_type)).one() == "text/markdown"


def test_an_oversized_body_is_truncated_and_says_so(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(documents, "MAX_STORED_BYTES", 64)
    text = "Bulk WhatsApp sender. " * 20
    ingest(session, doc(text))
    stored = session.scalars(select(Document)).one()
    assert (stored.size, stored.truncated) == (len(text), True)
    assert stored.sha256 == hashlib.sha256(text.encode()).hexdigest()
    assert document_bytes(session, stored.sha256) == text.encode()[:64]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("PK\x03\x04\x00\x00binary", "binary content"),
        ("broken \ud800 surrogate", "unable to parse raw data as a unicode string"),
        ("", "at least 1 character"),
    ],
)
def test_binary_or_broken_text_rejects_only_itself(
    session: Session, text: str, reason: str
) -> None:
    outcome = ingest(session, doc(text), doc("Bulk WhatsApp sender, unlimited messages."))
    (rejection,) = outcome.rejected
    assert rejection.record_index == 0
    assert reason in rejection.reason
    assert outcome.summary["ingested"] == 1
    assert len(session.scalars(select(Document)).all()) == 1
