"""The legal notice rendered from its template."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import jinja2
import pytest

from tasks.legal.notice import CompanyView, EvidenceView, render
from tasks.legal.policy import EvidenceFact, evaluate


def facts() -> list[EvidenceFact]:
    return [
        EvidenceFact(101, "on_platform", dt.datetime(2019, 11, 3, 9, tzinfo=dt.UTC), False, 0.95),
        EvidenceFact(102, "off_platform", dt.datetime(2020, 1, 15, 9, tzinfo=dt.UTC), True, 0.95),
    ]


EVIDENCE = {
    101: EvidenceView(None, "account acc-9 banned for automated or bulk messaging"),
    102: EvidenceView("https://www.reachmedia.sk/", "Hromadné správy cez WhatsApp\npre firmy."),
}


def notice(**overrides: object) -> str:
    args: dict[str, object] = {
        "company": CompanyView(42, "Reach Media s.r.o."),
        "domains": ["reachmedia.sk", "reachmedia.co.uk"],
        "eligibility": evaluate(facts()),
        "evidence": EVIDENCE,
        "linked_accounts": ["acc-9", "acc-10"],
        "policy_version": "2019-12-07.1",
    }
    args.update(overrides)
    return render(**args)  # type: ignore[arg-type]


def test_notice_names_the_company_evidence_basis_and_dates() -> None:
    text = notice()
    verdict = evaluate(facts())
    assert "To: Reach Media s.r.o. (reachmedia.sk, reachmedia.co.uk)" in text
    assert "Reference: BG-000042" in text
    assert "Policy version: 2019-12-07.1" in text
    assert f"Basis: {verdict.reason}." in text
    assert "Period of activity on record: 03 November 2019 to 15 January 2020." in text
    assert "[E101] 2019-11-03  on-platform" in text
    assert "[E102] 2020-01-15  off-platform  https://www.reachmedia.sk/" in text
    assert text.index("[E101]") < text.index("[E102]")
    assert "Hromadné správy cez WhatsApp pre firmy." in text  # newline folded into the line
    assert "Accounts on the service tied to the company: 2 (acc-9, acc-10)." in text


def test_every_cited_evidence_id_appears() -> None:
    text = notice()
    for fact in evaluate(facts()).cited:
        assert f"[E{fact.evidence_id}]" in text


def test_many_linked_accounts_are_abbreviated() -> None:
    accounts = [f"acc-{i:02d}" for i in range(12)]
    text = notice(linked_accounts=accounts)
    assert "tied to the company: 12 (acc-00, " in text
    assert "acc-09, ...)." in text
    assert "acc-10" not in text


def test_without_domains_or_accounts() -> None:
    text = notice(domains=[], linked_accounts=[])
    assert "To: Reach Media s.r.o.\n" in text
    assert "Accounts on the service" not in text


def test_long_excerpt_is_truncated() -> None:
    evidence = {**EVIDENCE, 102: EvidenceView(None, "word " * 200)}
    text = notice(evidence=evidence)
    line = next(x for x in text.splitlines() if x.strip().startswith("word"))
    assert len(line.strip()) <= 240
    assert line.rstrip().endswith("...")


def test_missing_evidence_for_a_cited_id_raises() -> None:
    with pytest.raises(jinja2.UndefinedError):
        notice(evidence={101: EVIDENCE[101]})


@dataclass(frozen=True)
class Nameless:
    id: int


def test_missing_company_field_raises() -> None:
    with pytest.raises(jinja2.UndefinedError, match="name"):
        notice(company=Nameless(42))
