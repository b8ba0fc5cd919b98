"""The letter a company receives, rendered in English and in Slovak from its templates."""

from __future__ import annotations

import dataclasses
import datetime as dt

import jinja2
import pytest

from tasks.legal.letter import CitedEvidence, Letter, language_for, render

CUTOFF = dt.datetime(2019, 12, 7, tzinfo=dt.timezone(dt.timedelta(hours=-12)))
BAN = CitedEvidence(
    101,
    "on_platform",
    dt.datetime(2019, 11, 3, 9, tzinfo=dt.UTC),
    None,
    "a" * 64,
    "internal excerpt: score 0.991, model m-7",
    account_phone="+421905111222",
)
CLAIM = CitedEvidence(
    102,
    "off_platform",
    dt.datetime(2020, 1, 15, 9, tzinfo=dt.UTC),
    "https://www.reachmedia.sk/",
    "b" * 64,
    "Posielame hromadné správy cez WhatsApp na 100 000 čísel denne.",
)


def letter(**overrides: object) -> Letter:
    base = Letter(
        reference="BG-2026-000042",
        language="en",
        kind="notice",
        company_name="Reach Media s.r.o.",
        basis="on_and_off_platform",
        cutoff=CUTOFF,
        activity_first=BAN.observed_at,
        activity_last=CLAIM.observed_at,
        evidence=(BAN, CLAIM),
        response_days=14,
        accounts_actioned=2,
        brands=("ReachBlast",),
        domains=("reachmedia.sk",),
    )
    return dataclasses.replace(base, **overrides)  # type: ignore[arg-type]


def test_the_english_letter_quotes_the_evidence_with_its_hash() -> None:
    text = render(letter())
    assert text.startswith("NOTICE TO CEASE UNAUTHORISED AUTOMATED AND BULK MESSAGING\n")
    assert "Reference: BG-2026-000042" in text
    assert "To: Reach Media s.r.o., also trading as ReachBlast" in text
    assert "Web sites: reachmedia.sk" in text
    assert "Since 7 December 2019, the service also takes action" in text
    assert "Activity on record: 3 November 2019 to 15 January 2020." in text
    assert "banned for automated or bulk messaging: 2." in text
    assert "[1] 3 November 2019, on the service\n    SHA-256 " + "a" * 64 in text
    assert "An account registered to +421905111222 was banned" in text
    assert "[2] 15 January 2020, https://www.reachmedia.sk/\n    SHA-256 " + "b" * 64 in text
    assert f'"{CLAIM.passage}"' in text
    assert "within 14 days of receiving this notice" in text


def test_the_letter_carries_no_internal_wording() -> None:
    for language in ("en", "sk"):
        text = render(letter(language=language)).lower()
        for internal in ("drafted automatically", "counsel", "score", "model", "policy version"):
            assert internal not in text, (language, internal)


def test_the_slovak_letter() -> None:
    text = render(letter(language="sk"))
    assert text.startswith("VÝZVA NA UKONČENIE NEOPRÁVNENÉHO AUTOMATIZOVANÉHO")
    assert "Číslo konania: BG-2026-000042" in text
    assert "Od 7. decembra 2019 služba podniká kroky" in text
    assert "Zaznamenaná činnosť: od 3. novembra 2019 do 15. januára 2020." in text
    assert f"„{CLAIM.passage}“" in text
    assert "Účet registrovaný na číslo +421905111222 bol zablokovaný" in text
    assert "Do 14 dní od doručenia tejto výzvy" in text


def test_each_basis_states_only_its_own_ground() -> None:
    on_only = render(letter(basis="on_platform", evidence=(BAN,)))
    assert "were banned for automated or bulk messaging." in on_only
    assert "Since 7 December 2019" not in on_only
    off_only = render(letter(basis="off_platform_after_cutoff", evidence=(CLAIM,)))
    assert "Accounts on the service tied to your company were banned" not in off_only
    assert "Since 7 December 2019" in off_only


def test_an_escalation_refers_to_the_notice_it_follows() -> None:
    text = render(letter(kind="escalation", previous_reference="BG-2026-000007"))
    assert text.startswith("FURTHER NOTICE: UNAUTHORISED AUTOMATED AND BULK MESSAGING CONTINUES")
    assert "Further to our notice BG-2026-000007." in text
    assert "Our notice BG-2026-000007 asked you to stop." in text


def test_the_language_follows_the_company_country_with_english_as_fallback() -> None:
    assert language_for(["SK", "GB"]) == "sk"
    assert language_for(["GB", "SK"]) == "en"
    assert language_for(["BR"]) == "en"
    assert language_for([]) == "en"


def test_a_missing_field_is_an_error_not_a_blank_line() -> None:
    @dataclasses.dataclass(frozen=True)
    class Partial:
        reference: str
        language: str = "en"
        kind: str = "notice"
        previous_reference: None = None

    with pytest.raises(jinja2.UndefinedError):
        render(Partial("BG-1"))  # type: ignore[arg-type]
