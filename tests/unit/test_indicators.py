"""The normal forms evidence is compared in: registered domains, folded text, company names."""

from __future__ import annotations

import pytest

from tasks.evidence.reading.indicators import (
    email_domain,
    fold,
    normalize_company_name,
    registered_domain,
)


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
