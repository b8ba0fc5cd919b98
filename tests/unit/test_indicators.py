"""Indicators found in evidence text."""

from __future__ import annotations

import pytest

from tasks.evidence.indicators import (
    email_domain,
    extract,
    fold,
    normalize_company_name,
    registered_domain,
)


def test_slovak_claim_with_diacritics() -> None:
    found = extract("Hromadné správy cez WhatsApp pre vašu firmu - neobmedzené množstvo správ.")
    assert found.claims == ("hromadne spravy cez whatsapp", "neobmedzene mnozstvo sprav")


def test_claim_across_line_breaks_and_case() -> None:
    found = extract("HROMADNÉ   správy\ncez WhatsApp")
    assert found.claims == ("hromadne spravy cez whatsapp",)


@pytest.mark.parametrize(
    ("text", "claims"),
    [
        (
            "Bulk WhatsApp marketing: reach 100,000 customers a day with our automated WhatsApp "
            "sender.",
            ("bulk whatsapp", "automated whatsapp"),
        ),
        (
            "Unlimited WhatsApp messages with WhatsApp automation, no ban guaranteed.",
            ("whatsapp automation", "unlimited whatsapp messages"),
        ),
        (
            "WhatsApp blast service: send thousands of WhatsApp messages in minutes.",
            ("whatsapp blast", "send thousands of whatsapp"),
        ),
    ],
)
def test_english_claims(text: str, claims: tuple[str, ...]) -> None:
    assert extract(text).claims == claims


@pytest.mark.parametrize(
    "text",
    [
        "Opening hours Monday to Friday. Write to us or call us for an appointment.",
        "Our shop sells handmade furniture. Contact us on WhatsApp for delivery dates.",
        "Hromadná doprava: správy o meškaní spojov.",
    ],
)
def test_neutral_text_has_no_claims(text: str) -> None:
    assert extract(text).claims == ()


def test_domains_via_the_offline_suffix_list() -> None:
    found = extract("Pricing at https://www.shop.reachmedia.co.uk/pricing and blastsend.sk today.")
    assert found.domains == ("blastsend.sk", "reachmedia.co.uk")


@pytest.mark.parametrize(
    ("value", "domain"),
    [
        ("https://www.shop.example.co.uk/x", "example.co.uk"),
        ("WWW.Example.COM", "example.com"),
        ("http://reach-media.sk:8080/a?b=c", "reach-media.sk"),
        ("localhost", None),
        ("file.txt", None),
        ("", None),
        (None, None),
    ],
)
def test_registered_domain(value: str | None, domain: str | None) -> None:
    assert registered_domain(value) == domain


def test_email_domain() -> None:
    assert email_domain("Sales@Shop.ReachMedia.co.uk") == "reachmedia.co.uk"
    assert email_domain("not-an-address") is None
    assert email_domain(None) is None


def test_emails_and_their_domains() -> None:
    found = extract("Write to Sales@ReachMedia.sk or info@blast.co.uk.")
    assert found.emails == ("info@blast.co.uk", "sales@reachmedia.sk")
    assert found.domains == ("blast.co.uk", "reachmedia.sk")


def test_phones_in_free_text_need_their_country_code() -> None:
    found = extract("Call +421 905 123 456 or +44 20 7946 0958; locally 0905 111 222.")
    assert found.phones == ("+421905123456", "+442079460958")


def test_url_of_the_document_counts_as_a_domain() -> None:
    found = extract("Plans from 9 EUR.", url="https://bulksender.com/pricing")
    assert found.domains == ("bulksender.com",)
    assert found.as_dict() == {
        "domains": ["bulksender.com"],
        "emails": [],
        "phones": [],
        "claims": [],
    }


def test_fold() -> None:
    assert fold("Hromadné Správy ŽĽČ") == "hromadne spravy zlc"


@pytest.mark.parametrize(
    ("name", "normalized"),
    [
        ("Reach Media s.r.o.", "reach media"),
        ("Reach Media spol. s r.o.", "reach media"),
        ("Blast Digital Ltd", "blast digital"),
        ("Ping Labs, Ltd.", "ping labs"),
        ("Škoda a.s.", "skoda"),
        ("Wave Growth GmbH", "wave growth"),
        ("PROMO-SEND LIMITED", "promo send"),
        ("Echo Connect", "echo connect"),
    ],
)
def test_normalize_company_name(name: str, normalized: str) -> None:
    assert normalize_company_name(name) == normalized
