"""What a document says, for evidence: is it a claim of bulk or automated sending, in which
passages, and whose contacts and name does it carry, dated when.

One function for the ingest task and ``bulkguard evidence analyze`` alike. HTML is reduced to
text for the claim and the date; contacts are read from the document as received, since links
and attributes carry numbers and addresses that the text drops.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from tasks.evidence.reading.brand import brand, is_platform
from tasks.evidence.reading.claims import Cue, detect_claims
from tasks.evidence.reading.contacts import extract_contacts
from tasks.evidence.reading.document_facts import document_date
from tasks.evidence.reading.html_text import to_text

# A document is read up to here: offers, contacts and dates are at the start of a page, and
# the rules' cost grows with the length (the whole document is preserved regardless).
MAX_ANALYSED_CHARS = 500_000


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
        }


def analyze(document: str, url: str | None = None) -> Analysis:
    document = document[:MAX_ANALYSED_CHARS]
    text = to_text(document)
    verdict = detect_claims(text)
    contacts = extract_contacts(document, url)
    hosts = contacts.hosts
    name = brand(document, url, contacts.domains, hosts.own + hosts.link + hosts.platform)
    platform = hosts.platform if is_platform(name) else ()
    return Analysis(
        text=text,
        is_claim=verdict.is_claim,
        claim_kinds=verdict.kinds,
        cues=verdict.cues,
        phones=contacts.phones,
        emails=contacts.emails,
        domains=contacts.domains,
        brand=name,
        document_date=document_date(document),
        voice=verdict.voice,
        hosts=tuple(sorted(hosts.own + platform)),
        link_hosts=hosts.link,
    )
