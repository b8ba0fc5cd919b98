"""Counsel's notices in the console, on a real database (SQLite and PostgreSQL) and Redis: the
letter as it will be sent, approval of exactly the revision the page showed (from the page's own
form), refusals shown with the way back, the difference between revisions, and the role and
CSRF checks on every route."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from infra.db.models import LegalNotice, NoticeEvent, utcnow
from infra.db.session import session_scope
from infra.mail import SandboxMailer
from tests.broker import Broker
from tests.console_client import Console, console
from tests.people import PASSWORD, person
from tests.stages.test_legal_body import add_evidence, claim, drafted, evaluate, send
from workers.cli.main import main

FIRST = "2020-01-15T10:00:00+00:00"
LATER = "2020-03-01T10:00:00+00:00"
HIDDEN = re.compile(r'<input type="hidden" name="([a-z0-9]+)" value="([^"]*)">')
FORM = re.compile(r'<form method="post" action="([^"]+)">(.*?)</form>', re.S)
LETTER = re.compile(r'<pre class="letter">(.*?)</pre>', re.S)


def setup() -> tuple[int, int]:
    """A notice pending review, and the id of the counsel who will decide on it."""
    with session_scope() as session:
        carol = person(session, "carol", "counsel")
        person(session, "rita", "reviewer")
        notice = drafted(session, claim(FIRST))
        assert notice.status == "pending_review"
        assert carol.user_id is not None
        return notice.id, carol.user_id


def form_of(page: str, action: str) -> dict[str, str]:
    """The hidden fields of the page's form that posts to ``action``, as the browser sends them."""
    for found_action, inner in FORM.findall(page):
        if found_action == action:
            return {name: html.unescape(value) for name, value in HIDDEN.findall(inner)}
    raise AssertionError(f"no form to {action}")


def loaded(browser: Console, notice_id: int) -> str:
    page = browser.get(f"/notices/{notice_id}")
    assert page.status_code == 200, page.text
    return str(page.text)


def stored(notice_id: int) -> LegalNotice:
    with session_scope() as session:
        notice = session.get_one(LegalNotice, notice_id)
        session.expunge(notice)
        return notice


def test_counsel_approves_the_revision_the_page_showed(env: dict[str, str]) -> None:
    notice_id, carol_id = setup()
    broker = Broker()
    with console(broker) as browser:
        browser.login("carol", PASSWORD)
        listed = browser.get("/notices")
        assert listed.status_code == 200
        reference = stored(notice_id).reference
        assert reference in listed.text
        page = loaded(browser, notice_id)
        # The letter as legal.send will e-mail it, and the passage its evidence cites.
        (letter,) = LETTER.findall(page)
        assert html.unescape(letter) == stored(notice_id).body
        assert "We send bulk WhatsApp messages to 100,000 customers." in html.unescape(page)
        assert "legal@acmereach.sk" in page  # the recipient on record
        fields = form_of(page, f"/notices/{notice_id}/approve")
        assert fields["revision"] == "1"
        assert fields["sha256"] == stored(notice_id).body_sha256
        approved = browser.post(
            f"/notices/{notice_id}/approve",
            data={**fields, "note": "read it all"},
            follow_redirects=False,
        )
        assert approved.status_code == 303, approved.text
        assert approved.headers["location"] == f"/notices/{notice_id}"
        assert "Revision 1 approved" in browser.get(approved.headers["location"]).text
        notice = stored(notice_id)
        assert (notice.status, notice.approved_by_id) == ("approved", carol_id)
        assert (notice.approved_revision, notice.approved_sha256) == (1, notice.body_sha256)
        assert broker.sent == [("legal.send", {"notice_id": notice_id})]
        # The same form again: the notice is no longer pending review.
        again = browser.post(f"/notices/{notice_id}/approve", data=fields)
        assert again.status_code == 409
        assert "not pending review" in again.text
        assert f'href="/notices/{notice_id}"' in again.text
    assert len(broker.sent) == 1
    with session_scope() as session:
        event = session.scalars(
            select(NoticeEvent)
            .where(NoticeEvent.notice_id == notice_id)
            .order_by(NoticeEvent.id.desc())
        ).first()
        assert event is not None
        assert (event.status, event.actor, event.channel) == ("approved", "carol", "console")


def test_a_revision_made_after_the_page_was_loaded_is_refused(env: dict[str, str]) -> None:
    notice_id, _ = setup()
    broker = Broker()
    with console(broker) as browser:
        browser.login("carol", PASSWORD)
        read = form_of(loaded(browser, notice_id), f"/notices/{notice_id}/approve")
        with session_scope() as session:
            company_id = stored(notice_id).company_id
            add_evidence(session, claim(LATER, path="/prices"))
            evaluate(session, company_id)
        refused = browser.post(f"/notices/{notice_id}/approve", data=read)
        assert refused.status_code == 409
        assert "not the revision on record" in refused.text
        assert f'href="/notices/{notice_id}"' in refused.text
        notice = stored(notice_id)
        assert (notice.status, notice.revision, notice.approved_by) == ("pending_review", 2, None)
        assert broker.sent == []
        # Reloaded: what revision 2 added is shown as inserted, and it can be approved.
        page = loaded(browser, notice_id)
        assert "Changed since revision 1" in page
        inserted = [html.unescape(line) for line in re.findall(r"<ins>(.*?)</ins>", page)]
        assert any("/prices" in line for line in inserted), inserted
        again = form_of(page, f"/notices/{notice_id}/approve")
        assert again["revision"] == "2"
        assert (
            browser.post(
                f"/notices/{notice_id}/approve", data=again, follow_redirects=False
            ).status_code
            == 303
        )
    assert stored(notice_id).approved_revision == 2


def test_the_command_line_shows_what_the_page_shows(env: dict[str, str]) -> None:
    notice_id, _ = setup()
    shown = CliRunner().invoke(main, ["legal", "show", str(notice_id), "--json"])
    assert shown.exit_code == 0, shown.output
    detail = json.loads(shown.output)
    with console() as browser:
        browser.login("carol", PASSWORD)
        page = html.unescape(loaded(browser, notice_id))
    assert detail["sha256"] in page
    for evidence in detail["evidence"]:
        assert evidence["excerpt"]
        assert evidence["excerpt"] in page
        assert f"E{evidence['id']}" in page
    text = CliRunner().invoke(main, ["legal", "show", str(notice_id)])
    assert detail["evidence"][0]["excerpt"] in text.output


def test_notices_are_counsels_even_to_read(env: dict[str, str]) -> None:
    notice_id, _ = setup()
    with console() as browser:
        browser.login("rita", PASSWORD)
        assert "/notices" not in browser.get("/").text  # not in the menu either
        for path in ("/notices", f"/notices/{notice_id}", "/notices?status=all"):
            assert browser.get(path).status_code == 403, path
        token = browser.csrf("/")
        fields = {"revision": "1", "sha256": stored(notice_id).body_sha256, "csrf": token}
        assert browser.post(f"/notices/{notice_id}/approve", data=fields).status_code == 403
        assert (
            browser.post(
                f"/notices/{notice_id}/reject", data={"reason": "no", "csrf": token}
            ).status_code
            == 403
        )
    assert stored(notice_id).status == "pending_review"


def test_a_decision_without_the_forms_token_is_refused(env: dict[str, str]) -> None:
    notice_id, _ = setup()
    with console() as browser:
        browser.login("carol", PASSWORD)
        fields = form_of(loaded(browser, notice_id), f"/notices/{notice_id}/approve")
        del fields["csrf"]
        assert browser.post(f"/notices/{notice_id}/approve", data=fields).status_code == 403
        forged = {**fields, "csrf": "0" * 64}
        assert browser.post(f"/notices/{notice_id}/approve", data=forged).status_code == 403
        reject = browser.post(f"/notices/{notice_id}/reject", data={"reason": "wrong company"})
        assert reject.status_code == 403
    assert stored(notice_id).status == "pending_review"


def test_reject_needs_a_reason_and_ends_the_notice(env: dict[str, str]) -> None:
    notice_id, _ = setup()
    with console() as browser:
        browser.login("carol", PASSWORD)
        path = f"/notices/{notice_id}/reject"
        empty = browser.submit(path, {"reason": " "}, form_at=f"/notices/{notice_id}")
        assert empty.status_code == 409
        assert "say why" in empty.text
        done = browser.submit(path, {"reason": "wrong company"}, form_at=f"/notices/{notice_id}")
        assert done.status_code == 303
        assert stored(notice_id).status == "rejected"
        page = loaded(browser, notice_id)
        assert "wrong company" in page
        assert f"/notices/{notice_id}/approve" not in page
        assert browser.get("/notices?status=rejected").text.count(f"/notices/{notice_id}") == 1
        assert browser.get("/notices?status=bogus").status_code == 400


def test_a_sent_notice_shows_its_delivery_and_takes_the_companys_answer(
    env: dict[str, str], tmp_path: Path
) -> None:
    notice_id, _ = setup()
    with console() as browser:
        browser.login("carol", PASSWORD)
        fields = form_of(loaded(browser, notice_id), f"/notices/{notice_id}/approve")
        browser.post(f"/notices/{notice_id}/approve", data=fields)
        with session_scope() as session:
            sent = send(session, session.get_one(LegalNotice, notice_id), SandboxMailer(tmp_path))
            assert sent.summary["delivered"] is True
        page = loaded(browser, notice_id)
        assert "delivered" in page
        assert "sandbox:" in page
        path = f"/notices/{notice_id}/acknowledge"
        assert path in page
        answer = {"note": "they stopped, letter of 3 May"}
        answered = browser.submit(path, answer, form_at=f"/notices/{notice_id}")
        assert answered.status_code == 303
    notice = stored(notice_id)
    assert notice.status == "acknowledged"
    assert notice.respond_by is not None
    assert notice.respond_by > utcnow()
