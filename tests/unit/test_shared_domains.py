"""The list of domains that are never a company's key, kept as data."""

from __future__ import annotations

import pytest

from tasks.evidence.reading.indicators import registered_domain
from tasks.evidence.reading.shared_domains import is_shared, shared_domains


@pytest.mark.parametrize(
    "host",
    [
        "wa.me",
        "api.whatsapp.com",
        "web.whatsapp.com",
        "www.facebook.com",
        "bit.ly",
        "linktr.ee",
        "github.com",
        "someone.github.io",
        "t.me",
        "gmail.com",
        "hotmail.com",
        "azet.sk",
        "uol.com.br",
        "docs.google.com",
        "shop.example.com",
    ],
)
def test_platforms_shorteners_hosting_and_free_mail_are_shared(host: str) -> None:
    assert is_shared(host)


@pytest.mark.parametrize("host", ["acmereach.sk", "www.zapblast.io", "disparo.com.br", "me.sk"])
def test_a_company_domain_is_not_shared(host: str) -> None:
    assert not is_shared(host)


def test_every_entry_is_a_registered_domain() -> None:
    # Entries are compared with what tldextract reports for a host, so a host written in the
    # list (www.…, a subdomain) would never match anything.
    assert {d for d in shared_domains() if registered_domain(d) != d} == set()
