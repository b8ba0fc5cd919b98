"""The small vocabulary evidence is compared in: registered domains, folded text, company names.

What a document says is read by ``tasks.evidence.reading.analysis``; these are the normal forms
its findings and the company keys are kept in, so that the same domain or name written two ways
is one.
"""

from __future__ import annotations

import re
import unicodedata

import tldextract

# The offline suffix list bundled with tldextract: workers never fetch it from the network.
_extract = tldextract.TLDExtract(suffix_list_urls=())


def host_parts(url_or_host: str) -> tldextract.ExtractResult:
    """Subdomain, domain and public suffix of a URL or host, by the one offline suffix list."""
    return _extract(url_or_host.strip())


def registered_domain(url_or_host: str | None) -> str | None:
    """``https://www.shop.example.co.uk/x`` → ``example.co.uk``; None if there is no domain."""
    if not url_or_host:
        return None
    result = host_parts(url_or_host)
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
