"""What a document says, for evidence: is it a claim of bulk or automated sending, in which
passages, and whose contacts and name does it carry, dated when.

One function for the ingest task and ``bulkguard evidence analyze`` alike. HTML is reduced to
text for the claim and the date; contacts are read from the document as received, since links
and attributes carry numbers and addresses that the text drops.

The claim is decided by a trained model when the caller passes one (the registry's active
evidence model, loaded by the caller: this package reads no registry), else by the rules. The
model weighs what the rules saw; the passages shown are the rules' cues: those that make the
claim, or, where the model finds a claim that a page-level step of the rules set aside, the cues
that stand in their own sentence; where no cue stands at all, the sentences that pushed the
model most (cues of kind ``MODEL_PASSAGE``, which name no claim kind).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from tasks.evidence.reading.brand import brand, is_platform
from tasks.evidence.reading.claim_model import ClaimModel, Contribution
from tasks.evidence.reading.claims import Cue, read_claims
from tasks.evidence.reading.contacts import extract_contacts
from tasks.evidence.reading.document_facts import document_date
from tasks.evidence.reading.html_text import to_text

# A document is read up to here: offers, contacts and dates are at the start of a page, and
# the rules' cost grows with the length (the whole document is preserved regardless).
MAX_ANALYSED_CHARS = 500_000
RULES = "rules"  # the reader's name when no model decides
MODEL_PASSAGE = "model"  # a cue's kind for a sentence the model weighed, not a rule's offer


@dataclass(frozen=True)
class Analysis:
    text: str  # the document as text: cue spans index into it
    is_claim: bool
    claim_kinds: tuple[str, ...]
    cues: tuple[Cue, ...]
    phones: tuple[str, ...]
    emails: tuple[str, ...]
    domains: tuple[str, ...]  # company keys: the publisher's and its addresses' domains
    brand: str | None
    document_date: dt.date | None
    voice: str | None  # news, policy, forum... when the document does not speak as a seller
    hosts: tuple[str, ...] = ()  # the publisher's hosts as written (api.vendor.example)
    # Chat, shortener, link-in-bio, marketplace, store and checkout hosts: never company keys.
    link_hosts: tuple[str, ...] = ()
    reader: str = RULES  # who decided the claim: "rules", or the evidence model's version
    claim_probability: float | None = None  # the model's calibrated probability, if one read
    contributions: tuple[Contribution, ...] = ()  # what moved the model most, when asked

    def as_json(self) -> dict[str, Any]:
        """The published line format of ``bulkguard evidence analyze`` (without the id)."""
        return {
            "is_claim": self.is_claim,
            "claim_kinds": list(self.claim_kinds),
            "cues": [
                {"kind": c.kind, "text": c.text, "start": c.start, "end": c.end} for c in self.cues
            ],
            "phones": list(self.phones),
            "domains": list(self.domains),
            "emails": list(self.emails),
            "brand": self.brand,
            "document_date": self.document_date.isoformat() if self.document_date else None,
            "voice": self.voice,
            "hosts": list(self.hosts),
            "link_hosts": list(self.link_hosts),
            "reader": self.reader,
            "claim_probability": (
                None if self.claim_probability is None else round(self.claim_probability, 4)
            ),
        }


def analyze(
    document: str, url: str | None = None, model: ClaimModel | None = None, *, explain: int = 0
) -> Analysis:
    """Read ``document`` (found at ``url``); ``model`` decides the claim when given, and
    ``explain`` keeps that many of its largest contributions."""
    document = document[:MAX_ANALYSED_CHARS]
    text = to_text(document)
    reading = read_claims(text)
    verdict = reading.verdict
    is_claim, cues = verdict.is_claim, verdict.cues
    probability = None
    contributions: tuple[Contribution, ...] = ()
    if model is not None:
        scored = model.read(text, reading.signals, explain=explain)
        probability, contributions = scored.probability, scored.contributions
        is_claim = scored.is_claim
        cues = (cues or reading.kept) if is_claim else ()
        if is_claim and not cues:
            cues = tuple(
                Cue(MODEL_PASSAGE, text[start:end], start, end)
                for start, end in model.passages(text)
            )
    contacts = extract_contacts(document, url)
    hosts = contacts.hosts
    name = brand(document, url, contacts.domains, hosts.own + hosts.link + hosts.platform)
    platform = hosts.platform if is_platform(name) else ()
    return Analysis(
        text=text,
        is_claim=is_claim,
        claim_kinds=tuple(sorted({c.kind for c in cues} - {MODEL_PASSAGE})),
        cues=cues,
        phones=contacts.phones,
        emails=contacts.emails,
        domains=contacts.domains,
        brand=name,
        document_date=document_date(document),
        voice=verdict.voice,
        hosts=tuple(sorted(hosts.own + platform)),
        link_hosts=hosts.link,
        reader=RULES if model is None else model.version,
        claim_probability=probability,
        contributions=contributions,
    )
