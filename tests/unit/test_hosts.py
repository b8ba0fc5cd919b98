"""The publisher's hosts kept as written, link hosts apart, examples never anyone's."""

from __future__ import annotations

import pytest

from tasks.evidence.reading.analysis import analyze
from tasks.evidence.reading.contacts import extract_contacts
from tasks.evidence.reading.hosts import Hosts
from tasks.evidence.reading.indicators import registered_domain
from tasks.evidence.reading.shared_domains import is_link_host, is_shared, link_hosts


def hosts(document: str, url: str | None = None) -> Hosts:
    return extract_contacts(document, url).hosts


def test_hosts_are_kept_as_written_with_their_registrable_domains() -> None:
    found = hosts("API at https://api.vendor.co.id/v1, panel app.vendor.co.id, www.vendor.co.id")
    assert found.own == ("api.vendor.co.id", "app.vendor.co.id", "www.vendor.co.id")
    assert found.domains == ("vendor.co.id",)


def test_link_hosts_are_reported_apart_and_are_never_company_keys() -> None:
    document = (
        "Chat: https://wa.me/6281387264410 · t.me/vendor · bit.ly/promo · linktr.ee/vendor\n"
        "Buy: https://grabnest.gumroad.com/l/full, https://shopee.co.id/vendor,"
        " https://articulo.mercadolibre.com.mx/MLM-1 · https://www.fiverr.com/vendor\n"
        "Site: https://www.vendor.com.br"
    )
    found = extract_contacts(document)
    assert found.hosts.link == (
        "articulo.mercadolibre.com.mx",
        "bit.ly",
        "grabnest.gumroad.com",
        "linktr.ee",
        "shopee.co.id",
        "t.me",
        "wa.me",
        "www.fiverr.com",
    )
    assert found.hosts.own == ("www.vendor.com.br",)
    assert found.domains == ("vendor.com.br",)


@pytest.mark.parametrize(
    "document",
    [
        "Send to https://api.example.com/v1/send or contato@exemplo.com",
        "Use your own domain (e.g. panel.yourbrand.com) or ex.: painel.suaempresa.com.br",
        "Endpoint http://localhost:3000 and https://files.yourshop.test/a.png",
        "Napr. kampane.vasafirma.sk alebo contoh.com",
        "Postado por olimpo.digital em 21/09/2022",
        "Escreva para financeiro (arroba) alcancemais.com.br",
    ],
)
def test_examples_user_names_and_written_out_addresses_are_not_hosts(document: str) -> None:
    assert hosts(document).own == ()


def test_a_preposition_is_not_a_written_out_at() -> None:
    assert hosts("Also at blast-pro.com.br").own == ("blast-pro.com.br",)


def test_the_platforms_hosts_are_the_publishers_only_on_its_own_pages() -> None:
    vendor = "# Zapio\n\nSee https://developers.facebook.com/docs for the rules. © 2024 Zapio"
    assert analyze(vendor).hosts == ()
    official = (
        "<html><head><title>Messaging limits | WhatsApp Business Platform</title>"
        '<meta property="og:site_name" content="Meta for Developers"></head><body>'
        '<a href="https://developers.facebook.com/docs/whatsapp">Docs</a>'
        '<a href="https://wa.me/15551234567">Chat</a></body></html>'
    )
    found = analyze(official)
    assert found.brand == "WhatsApp"
    assert found.hosts == ("developers.facebook.com",)
    assert found.link_hosts == ("wa.me",)
    assert found.domains == ()  # the platform is never a company key


def test_every_link_host_is_a_host_and_covers_its_subdomains() -> None:
    assert all(registered_domain(host) for host in link_hosts())
    assert is_link_host("fanfold.gumroad.com")
    assert is_link_host("pay.hotmart.com")
    assert not is_link_host("gumroad.com.vendor.io")
    assert not is_link_host("web.whatsapp.com")
    # A link host is never a company key, as a shared domain is not.
    assert is_shared("lynk.id")
    assert is_shared("www.workana.com")
