"""The audit trail in the console on a real database (SQLite and PostgreSQL): audit events and
notices' histories as one list, filtered by user, notice, company, account and date, and its CSV
export with cells a spreadsheet would run defused."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from sqlalchemy import select

from infra.db.models import AuditEvent, LegalNotice, utcnow
from infra.db.session import session_scope
from tests.console_client import Console, console
from tests.people import PASSWORD, person
from tests.stages.test_legal_body import claim, drafted
from workers.console import audit_trail
from workers.console.pages.audit import HEADER

FORMULA = "=cmd|' /C calc'!A0"


def setup() -> LegalNotice:
    """Counsel, an admin and a reviewer; a notice pending review; and an audit event whose actor
    a spreadsheet would take for a formula."""
    with session_scope() as session:
        person(session, "carol", "counsel")
        person(session, "adam", "admin")
        person(session, "rita", "reviewer")
        notice = drafted(session, claim("2020-01-15T10:00:00+00:00"))
        session.add(
            AuditEvent(
                entity="company",
                entity_id=notice.company_id,
                event="merged",
                actor=FORMULA,
                user_id=None,
                channel="worker",
                details={"reason": "@SUM(1+1)", "phone": "+421 900 123 456"},
            )
        )
        session.expunge(notice)
        return notice


def approve(browser: Console, notice: LegalNotice) -> None:
    response = browser.submit(
        f"/notices/{notice.id}/approve",
        {"revision": str(notice.revision), "sha256": notice.body_sha256, "note": "checked"},
        form_at=f"/notices/{notice.id}",
    )
    assert response.status_code == 303, response.text


def exported(browser: Console, **filters: str) -> list[dict[str, str]]:
    response = browser.get("/audit.csv", params=filters)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert tuple(rows[0]) == HEADER
    # Each export is on the trail itself (test_an_export_is_on_the_trail); the tests that
    # compare exports leave those records out.
    return [
        row
        for row in (dict(zip(HEADER, cells, strict=True)) for cells in rows[1:])
        if row["event"] != "audit_exported"
    ]


def test_the_trail_filters_by_user_and_notice(env: dict[str, str]) -> None:
    notice = setup()
    with console() as browser:
        browser.login("carol", PASSWORD)
        approve(browser, notice)
        by_carol = exported(browser, user="carol")
        assert {(r["source"], r["event"]) for r in by_carol} == {
            ("audit", "login"),
            ("notice", "approved"),
        }
        assert {r["actor"] for r in by_carol} == {"carol"}
        assert all(r["channel"] == "console" for r in by_carol)
        page = browser.get("/audit", params={"user": "carol"})
        assert page.status_code == 200
        assert "login" in page.text
        assert f'href="/notices/{notice.id}"' in page.text
        for name in (notice.reference, str(notice.id), notice.reference.lower()):
            of_notice = exported(browser, notice=name)
            assert [r["event"] for r in of_notice] == [
                "approved",
                "pending_review",
                "draft",
            ], name
            assert {r["entity_id"] for r in of_notice} == {str(notice.id)}
        shown = browser.get("/audit", params={"notice": notice.reference})
        assert "approved" in shown.text
        assert "login" not in shown.text
        assert exported(browser, notice="BG-1999-999999") == []


def test_the_trail_filters_by_company_account_and_date(env: dict[str, str]) -> None:
    notice = setup()
    today = utcnow().date()
    with console() as browser:
        browser.login("adam", PASSWORD)
        of_company = exported(browser, company=str(notice.company_id))
        assert {(r["entity"], r["event"]) for r in of_company} == {
            ("company", "merged"),
            ("legal_notice", "pending_review"),
            ("legal_notice", "draft"),
        }
        assert exported(browser, account="acc-nobody") == []
        assert len(exported(browser, since=str(today), until=str(today))) == len(exported(browser))
        yesterday = str(today - dt.timedelta(days=1))
        assert exported(browser, until=yesterday) == []
        assert browser.get("/audit", params={"since": "last week"}).status_code == 400
        assert browser.get("/audit", params={"company": "acme"}).status_code == 400
        # An admin reads the trail, but a notice is counsel's: no link to it.
        page = browser.get("/audit", params={"page": "1"})
        assert page.status_code == 200
        assert f'href="/notices/{notice.id}"' not in page.text


def test_the_export_defuses_formulas_and_masks_numbers(env: dict[str, str]) -> None:
    setup()
    with console() as browser:
        browser.login("carol", PASSWORD)
        rows = exported(browser)
        (merged,) = [r for r in rows if r["event"] == "merged"]
        assert merged["actor"] == "'" + FORMULA
        assert merged["details"].startswith("reason=@SUM(1+1)")
        assert "900 123" not in merged["details"]
        assert not any(
            cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row.values()
        )
        page = browser.get("/audit")
        assert "900 123" not in page.text


def test_the_export_reads_the_whole_trail_a_chunk_at_a_time(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    setup()
    with console() as browser:
        browser.login("carol", PASSWORD)
        whole = exported(browser)
        monkeypatch.setattr(audit_trail, "CHUNK", 2)
        chunked = exported(browser)
    assert len(whole) >= 5
    assert chunked == whole
    keys = [(r["at"], r["source"], r["entity"], r["event"]) for r in whole]
    assert keys == sorted(keys, key=_newest_first)


def test_the_trail_is_for_counsel_and_admins(env: dict[str, str]) -> None:
    setup()
    with console() as browser:
        browser.login("rita", PASSWORD)
        assert browser.get("/audit").status_code == 403
        assert browser.get("/audit.csv").status_code == 403


def _newest_first(key: tuple[str, str, str, str]) -> Any:
    at, source, *_ = key
    return (-dt.datetime.fromisoformat(at).timestamp(), source)


def test_an_export_is_on_the_trail_with_who_took_it_and_which_part(env: dict[str, str]) -> None:
    setup()
    with console() as browser:
        browser.login("carol", PASSWORD)
        assert browser.get("/audit.csv", params={"user": "adam"}).status_code == 200
        assert browser.get("/audit.csv", params={"since": "last week"}).status_code == 400
    with session_scope() as session:
        (export,) = session.scalars(
            select(AuditEvent).where(AuditEvent.event == "audit_exported")
        ).all()
    assert (export.actor, export.channel, export.entity) == ("carol", "console", "user")
    assert export.details == {"user": "adam"}
