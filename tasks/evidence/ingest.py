"""``evidence.ingest``'s body: documents from upstream become off-platform evidence.

Each document is validated on its own (a bad one is rejected with its reason, the rest are
kept), its indicators and claims are extracted, and the new evidence is handed to linking. The
claim is decided by the evidence model the task shell passes in (the registry's active one), or
by the rules when there is none; which of them read the document is kept with its indicators.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    Field,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from sqlalchemy.orm import Session

from infra.dead_letters import Rejection
from tasks.accounts.signals import CLOCK_SKEW_SECONDS
from tasks.evidence import store
from tasks.evidence.documents import preserve
from tasks.evidence.reading.analysis import Analysis, analyze
from tasks.evidence.reading.claim_model import ClaimModel
from tasks.evidence.reading.html_text import looks_like_html
from tasks.messages import FollowUp, IngestEvidence, LinkEvidence
from tasks.outcome import Outcome
from tasks.payload import PLAIN_TEXT, Payload, describe_validation_error

EXCERPT_CHARS = 600
# Larger documents are refused whole (a dead letter with the reason): at up to 4 bytes a
# character this bounds what one message can ask the store to keep before truncation.
MAX_TEXT_CHARS = 5_000_000


class Document(Payload):
    """One piece of evidence sent by an upstream service (a crawler, an analyst's tool)."""

    source: Literal["off_platform", "on_platform"] = "off_platform"
    kind: Literal["public_claim", "advertisement", "report", "court_record", "other"] = (
        "public_claim"
    )
    observed_at: AwareDatetime
    url: Annotated[str, Field(max_length=2000), PLAIN_TEXT] | None = None
    publisher: Annotated[str, Field(min_length=1, max_length=200), PLAIN_TEXT] | None = None
    title: Annotated[str, Field(max_length=500), PLAIN_TEXT] = ""
    # Plain text, Markdown or HTML, as fetched; HTML is reduced to text for analysis only.
    text: Annotated[str, Field(min_length=1, max_length=MAX_TEXT_CHARS)]
    content_type: Literal["text/plain", "text/markdown", "text/html"] | None = None
    submitted_by: Annotated[str, Field(min_length=1, max_length=200), PLAIN_TEXT] | None = None

    @field_validator("text")
    @classmethod
    def _text_not_binary(cls, text: str) -> str:
        # NUL never occurs in text, and PostgreSQL cannot store it: such a body is binary and
        # is kept only as a dead letter. (Text that is not Unicode is refused by the type.)
        if "\x00" in text:
            raise ValueError("binary content (NUL characters): send documents as text")
        return text

    @field_validator("observed_at")
    @classmethod
    def _not_in_the_future(cls, observed_at: dt.datetime, info: ValidationInfo) -> dt.datetime:
        # A document seen "tomorrow" would stretch a company's activity past what is on record.
        # The time it is received is the caller's: the validation context's "now".
        now = info.context["now"] if isinstance(info.context, dict) else None
        if not isinstance(now, dt.datetime):
            raise TypeError("a document is validated with the time it is received (context now)")
        if observed_at.timestamp() - now.timestamp() > CLOCK_SKEW_SECONDS:
            raise ValueError(
                f"observed_at {observed_at.isoformat()} is in the future: "
                "a document cannot be observed yet"
            )
        return observed_at


_DOCUMENT = TypeAdapter(Document)


def parse_document(raw: Any, *, now: dt.datetime) -> Document:
    """One document as received at ``now``; pydantic's ``ValidationError`` says why not."""
    return _DOCUMENT.validate_python(raw, context={"now": now})


def ingest_documents(
    session: Session,
    request: IngestEvidence,
    *,
    now: dt.datetime,
    model: ClaimModel | None = None,
) -> Outcome:
    """The documents of ``request``, received at ``now``, kept as evidence; ``model`` decides
    their claims (None: the rules)."""
    items = []
    rejected = []
    for index, raw in enumerate(request.documents):
        try:
            doc = parse_document(raw, now=now)
        except ValidationError as exc:
            rejected.append(
                Rejection(describe_validation_error(exc), raw, index, replay={"documents": [raw]})
            )
            continue
        body = doc.text.encode()
        document_id = preserve(session, body, doc.content_type or _content_type(doc.text))
        items.append(_evidence(doc, document_id, model))
    if not items:
        return Outcome({"ingested": 0, "rejected": len(rejected)}, rejected=rejected)
    ids = store.store(session, items)
    hashes = sorted(item.content_hash for item in items)
    digest = hashlib.sha256("\0".join(hashes).encode()).hexdigest()[:32]
    follow_up = FollowUp(
        LinkEvidence(evidence_ids=ids), dedupe_key=f"evidence.link:ingest:{digest}"
    )
    return Outcome(
        {"ingested": len(ids), "rejected": len(rejected)},
        follow_ups=[follow_up],
        rejected=rejected,
    )


def _content_type(text: str) -> str:
    return "text/html" if looks_like_html(text) else "text/plain"


def _evidence(doc: Document, document_id: int, model: ClaimModel | None) -> store.NewEvidence:
    found = analyze(f"{doc.title}\n{doc.text}", doc.url, model)
    name = doc.publisher or found.brand
    return store.NewEvidence(
        key="\0".join((doc.source, doc.url or "", doc.observed_at.isoformat(), doc.text)),
        source=doc.source,
        kind=doc.kind,
        observed_at=doc.observed_at,
        url=doc.url,
        account_id=None,
        claims_bulk=found.is_claim,
        excerpt=_excerpt(found),
        indicators={
            "domains": list(found.domains),
            "emails": list(found.emails),
            "phones": list(found.phones),
            "claims": list(found.claim_kinds),
            "names": [name] if name else [],
            "voice": found.voice,
            # Who read it ("rules" or the model's version), so its passages are shown as that
            # reader found them, and how sure a model was.
            "reader": found.reader,
            "claim_probability": found.claim_probability,
        },
        document_id=document_id,
        submitted_by=doc.submitted_by,
    )


def _excerpt(found: Analysis) -> str:
    """What a notice quotes: the sentences that make the claim, else the document's opening."""
    if not found.cues:
        return found.text.strip()[:EXCERPT_CHARS]
    text = found.text
    sentences = dict.fromkeys(_sentence_around(text, c.start, c.end) for c in found.cues)
    return " … ".join(sentences)[:EXCERPT_CHARS]


def _sentence_around(text: str, start: int, end: int) -> str:
    """The sentence (or line) of ``text`` holding ``text[start:end]``, whitespace folded."""
    left = max(text.rfind(mark, 0, start) for mark in (". ", "! ", "? ", "\n"))
    right = [i for i in (text.find(mark, end) for mark in (". ", "! ", "? ", "\n")) if i >= 0]
    stop = min(right) + 1 if right else len(text)
    return " ".join(text[left + 1 : stop].split())
