"""Indicators in a piece of evidence: domains, e-mail addresses, phone numbers, names, claims.

Off-platform evidence is mostly what companies say about themselves: a web page that offers
"bulk WhatsApp marketing", a number to call, an address to write to. The claim lexicon covers
English and Slovak wording of such offers; it flags documents, it does not decide anything.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import phonenumbers
import tldextract

from tasks.evidence.shared_domains import is_shared

# The offline suffix list bundled with tldextract: workers never fetch it from the network.
_extract = tldextract.TLDExtract(suffix_list_urls=())

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_HOST = re.compile(
    r"(?:https?://)?((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})\b"
)

# Offers of bulk or automated sending, lower-cased and without diacritics.
CLAIM_PHRASES = (
    "bulk whatsapp",
    "whatsapp bulk",
    "mass whatsapp",
    "whatsapp blast",
    "whatsapp marketing software",
    "automated whatsapp",
    "whatsapp automation",
    "unlimited whatsapp messages",
    "send thousands of whatsapp",
    "send millions of whatsapp",
    "whatsapp broadcast to unlimited",
    "hromadne spravy cez whatsapp",
    "hromadne posielanie sprav",
    "hromadne whatsapp",
    "automaticke posielanie sprav",
    "neobmedzene mnozstvo sprav",
)


@dataclass(frozen=True)
class Indicators:
    domains: tuple[str, ...]
    emails: tuple[str, ...]
    phones: tuple[str, ...]
    claims: tuple[str, ...]

    def as_dict(self) -> dict[str, list[str]]:
        return {
            "domains": list(self.domains),
            "emails": list(self.emails),
            "phones": list(self.phones),
            "claims": list(self.claims),
        }


def registered_domain(url_or_host: str | None) -> str | None:
    """``https://www.shop.example.co.uk/x`` → ``example.co.uk``; None if there is no domain."""
    if not url_or_host:
        return None
    result = _extract(url_or_host.strip())
    if not result.suffix or not result.domain:
        return None
    return result.top_domain_under_public_suffix.lower()


def email_domain(email: str | None) -> str | None:
    if not email or "@" not in email:
        return None
    return registered_domain(email.rsplit("@", 1)[1])


def fold(text: str) -> str:
    """Lower-case and strip diacritics, so 'Hromadné správy' matches 'hromadne spravy'."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def extract(text: str, url: str | None = None) -> Indicators:
    emails = sorted({m.group(0).lower() for m in _EMAIL.finditer(text)})
    hosts = {m.group(1) for m in _HOST.finditer(_EMAIL.sub(" ", text))}
    if url:
        hosts.add(url)
    domains = {d for d in (registered_domain(h) for h in hosts) if d}
    domains |= {d for d in (email_domain(e) for e in emails) if d}
    # A platform link, a shortener or a free-mail address names nobody's company.
    domains = {d for d in domains if not is_shared(d)}
    phones = sorted(
        {
            phonenumbers.format_number(m.number, phonenumbers.PhoneNumberFormat.E164)
            # No default region: only numbers written with their country code are trusted.
            for m in phonenumbers.PhoneNumberMatcher(text, None)
        }
    )
    folded = " ".join(fold(text).split())
    claims = tuple(p for p in CLAIM_PHRASES if p in folded)
    return Indicators(tuple(sorted(domains)), tuple(emails), tuple(phones), claims)


# Legal forms at the end of a company name, written with or without dots and spaces.
_LEGAL_FORM = re.compile(
    r"(?:[\s,]+(?:spol\.?\s*s\s*r\.?\s*o\.?|s\.?\s*r\.?\s*o\.?|a\.?\s*s\.?|ltd\.?|limited"
    r"|inc\.?|llc|gmbh|b\.?\s*v\.?|plc|corp\.?|co\.?"
    # Portuguese, Spanish and Latin American forms, and Indonesia's Tbk (listed companies).
    r"|ltda\.?|lda\.?|eireli|s\.?\s*a\.?|s\.?\s*l\.?|s\.?\s*a\.?\s*s\.?|s\.?\s*a\.?\s*de\s*c\.?\s*v\.?"
    r"|tbk\.?))+\s*$"
)
# Indonesian forms come first: "PT Sinar Jaya", "CV Maju".
_LEGAL_PREFIX = re.compile(r"^(?:pt|cv)\.?\s+(?=\S)")


def normalize_company_name(name: str) -> str:
    """Fold case and accents and drop a trailing legal form: 'Reach Media s.r.o.' → 'reach media'.

    Only whole legal forms are removed, so 'Plan A Ltd' stays 'plan a'; a name that is nothing
    but a legal form is kept as it is rather than reduced to nothing.
    """
    folded = " ".join(fold(name).split())
    stripped = _LEGAL_PREFIX.sub("", _LEGAL_FORM.sub("", folded)) or folded
    return " ".join(re.sub(r"[^a-z0-9 ]+", " ", stripped).split())
