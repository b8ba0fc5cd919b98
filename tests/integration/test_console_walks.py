"""Walks through the console in a real browser (headless Chromium) against ``bulkguard console
serve``, each ending in the database: a reviewer claims and bans while a second reviewer, in a
browser of their own, is kept out by the lease; counsel approves a notice that a real legal
worker e-mails exactly once to a real SMTP server, which a reviewer cannot approve; a reviewer's
verdict on a reading comes out of ``bulkguard labels export --evidence``.

The screenshots of the queue, a case, a company, a notice and the audit trail under
docs/console/ are taken here, from seeded data in the pipeline's shapes (fixed seeds).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Mapping
from email import message_from_bytes
from pathlib import Path
from typing import Any

from selenium.webdriver.common.by import By
from sqlalchemy import select

from infra.db.models import (
    Account,
    AuditEvent,
    EnforcementAction,
    EvidenceLink,
    LegalNotice,
    NoticeEvent,
    ReviewClaim,
    utcnow,
)
from infra.db.session import session_scope
from infra.redaction import masked_block
from infra.users import find
from tasks.evidence.ingest import ingest_documents
from tasks.evidence.link import link_evidence
from tasks.messages import IngestEvidence, LinkEvidence
from tests.integration.browser import ConsolePage, console_user
from tests.integration.conftest import Workers
from tests.integration.smtp_relay import Relay
from tests.people import PASSWORD
from tests.seed import banned_profile
from workers.harness.console_data import seed_console_data

NOTE = "the same offer to 400 strangers within 15 seconds"


def user_id(name: str) -> int:
    with session_scope() as session:
        user = find(session, name)
        assert user is not None
        return user.id


def test_a_reviewer_claims_and_bans_a_case_a_second_reviewer_cannot_take(
    browser: ConsolePage, second_browser: ConsolePage
) -> None:
    rita, bob = browser, second_browser
    console_user("rita", "reviewer")
    console_user("bob", "reviewer")
    console_user("carol", "counsel")
    with session_scope() as session:
        seeded = seed_console_data(session, accounts=300, reviews=40, notices=0, now=utcnow())
    case, oldest_left = seeded.reviews[0], seeded.reviews[1]

    rita.login("rita", PASSWORD)
    rita.open("/reviews")
    assert (rita.heading(), rita.status()) == ("Review queue", 200)
    cases = rita.driver.find_elements(By.CSS_SELECTOR, "tbody tr td:first-child a")
    assert [int(link.text) for link in cases[:3]] == seeded.reviews[:3], "oldest first"
    rita.screenshot("queue")

    # Bob opens the same case while nobody holds it: his page offers him the claim.
    bob.login("bob", PASSWORD)
    bob.open(f"/reviews/{case}")
    assert "Nobody holds this case" in bob.text()

    rita.submit(f"/reviews/{case}/claim")
    assert (rita.path, rita.status()) == (f"/reviews/{case}", 200)
    assert re.fullmatch(rf"Review case {case} is yours until \d\d:\d\d UTC\.", rita.flash())
    with session_scope() as session:
        review = session.get_one(EnforcementAction, case)
        account_id = review.account_id
        block = session.get_one(Account, account_id).phone_block
    shown = rita.text()
    assert block not in shown, "the case page shows no digit of the number past its first two"
    assert masked_block(block) in shown
    rita.screenshot("case")

    # Bob presses the Claim his page still shows: refused, with who holds it and until when.
    bob.submit(f"/reviews/{case}/claim")
    assert bob.status() == 409
    held = r"held by rita until \d\d:\d\d UTC"
    assert re.fullmatch(rf"Review case {case} is {held}: pick another case", bob.error())
    bob.open(f"/reviews/{case}")
    assert re.search(held, bob.text())
    assert not bob.driver.find_elements(By.CSS_SELECTOR, f'form[action="/reviews/{case}/decide"]')
    # A decision sent by hand, with his own session's token, is refused the same way.
    bob.forge(f"/reviews/{case}/decide", {"outcome": "dismiss", "note": "not abusive"})
    assert bob.status() == 409
    assert re.search(held, bob.error())

    rita.submit(f"/reviews/{case}/decide", {"outcome": "ban", "note": NOTE})
    assert rita.path == f"/reviews/{oldest_left}", "on to the oldest unclaimed case"
    assert re.fullmatch(
        rf"Review case {case}: ban; action \d+ \(ban\) in force\. "
        r"This is the oldest unclaimed case\.",
        rita.flash(),
    )
    # Too late for Bob: the case is closed.
    bob.open(f"/reviews/{case}")
    assert "Already decided: ban by rita" in bob.text()
    bob.forge(f"/reviews/{case}/claim", {})
    assert bob.status() == 409
    assert bob.error() == f"Review case {case} is already decided: there is nothing to claim"
    # Bob takes the next case from the queue: the oldest nobody holds, now his.
    bob.open("/reviews")
    bob.submit("/reviews/next")
    assert bob.path == f"/reviews/{oldest_left}"
    assert re.fullmatch(rf"Review case {oldest_left} is yours until \d\d:\d\d UTC\.", bob.flash())

    rita_id = user_id("rita")
    with session_scope() as session:
        assert session.get_one(EnforcementAction, case).status == "decided"
        assert session.get(ReviewClaim, case) is None, "deciding settles the lease"
        decisions = session.scalars(
            select(AuditEvent).where(
                AuditEvent.entity == "enforcement_action",
                AuditEvent.entity_id == case,
                AuditEvent.event.like("review:%"),
            )
        ).all()
        assert [(d.event, d.user_id, d.channel) for d in decisions] == [
            ("review:ban", rita_id, "console")
        ], "decided once, by Rita, in the console"
        assert decisions[0].details["note"] == NOTE
        (ban,) = session.scalars(
            select(EnforcementAction).where(EnforcementAction.origin_id == case)
        ).all()
        assert (ban.action, ban.status, ban.actor) == ("ban", "active", "rita")
        made = session.scalars(
            select(AuditEvent).where(
                AuditEvent.entity == "enforcement_action", AuditEvent.entity_id == ban.id
            )
        ).one()
        assert (made.event, made.user_id, made.channel) == ("created:active", rita_id, "console")
        assert session.get_one(Account, account_id).status == "banned"

    # Counsel reads who did it in the audit trail, found by the account.
    bob.logout()
    bob.login("carol", PASSWORD)
    bob.open("/audit")
    bob.submit("/audit", {"account": account_id})
    trail = bob.text()
    assert "review:ban" in trail
    assert "created:active" in trail
    assert re.search(r"rita\s+(rita\s+)?console", trail)
    bob.screenshot("audit")


def test_counsel_approves_a_notice_mailed_once_and_a_reviewer_is_refused(
    browser: ConsolePage,
    second_browser: ConsolePage,
    start: Callable[..., Workers],
    relay: Callable[[int], Relay],
) -> None:
    smtp = relay(0)
    workers = start({"legal": 1}, extra_env=smtp.env)
    carol, rita = browser, second_browser
    console_user("carol", "counsel")
    console_user("rita", "reviewer")
    with session_scope() as session:
        seeded = seed_console_data(session, accounts=10, reviews=0, notices=3, now=utcnow())
    notice_id = seeded.notices[0]
    on_record = stored(notice_id)
    approve = f"/notices/{notice_id}/approve"

    # A reviewer sends the approval by hand, with a valid token of her own session: 403.
    rita.login("rita", PASSWORD)
    rita.forge(approve, {"revision": "1", "sha256": on_record.body_sha256, "note": "looks fine"})
    assert (rita.status(), rita.heading()) == (403, "Not yours to see")
    assert "counsel" in rita.error()
    assert "not sent from this session's page" not in rita.error(), "refused for her role"
    refused = stored(notice_id)
    assert (refused.status, refused.approved_by_id) == ("pending_review", None)

    carol.login("carol", PASSWORD)
    carol.open("/notices")
    carol.driver.find_element(By.CSS_SELECTOR, f'a[href="/notices/{notice_id}"]').click()
    assert (carol.path, carol.heading()) == (
        f"/notices/{notice_id}",
        f"{on_record.reference} pending_review",
    )
    # The form pins the revision and the hash of the text the page shows.
    pinned = {name: carol.field(approve, name) for name in ("revision", "sha256")}
    assert pinned == {"revision": str(on_record.revision), "sha256": on_record.body_sha256}
    assert "legal@bulk-reach-1.example" in carol.text()
    carol.screenshot("notice")

    carol.submit(approve, {"note": "read in full: the evidence stands"})
    assert (carol.path, carol.status()) == (f"/notices/{notice_id}", 200)
    assert carol.flash() == "Revision 1 approved: the legal workers send it now."
    workers.wait_for(lambda: stored(notice_id).status == "sent", what="notice sent")
    # Every send the worker was given is finished: one e-mail, however many it handled.
    workers.wait_for(lambda: sends(workers) == (1, 1), what="the legal worker idle")
    assert len(smtp.inbox.messages) == 1
    mail = message_from_bytes(smtp.inbox.messages[0])
    assert mail["To"] == "legal@bulk-reach-1.example"
    assert mail["Message-ID"] == f"<{on_record.reference}.r1@bulkguard.invalid>"

    sent = stored(notice_id)
    assert (sent.approved_by_id, sent.approved_revision) == (user_id("carol"), 1)
    assert sent.approved_sha256 == pinned["sha256"]
    with session_scope() as session:
        approvals = session.scalars(
            select(NoticeEvent).where(
                NoticeEvent.notice_id == notice_id, NoticeEvent.status == "approved"
            )
        ).all()
        assert [(e.user_id, e.channel) for e in approvals] == [(user_id("carol"), "console")]
    carol.open(f"/notices/{notice_id}")
    assert "delivered" in carol.text()


def stored(notice_id: int) -> LegalNotice:
    with session_scope() as session:
        notice = session.get_one(LegalNotice, notice_id)
        session.expunge(notice)
        return notice


def sends(workers: Workers) -> tuple[int, int]:
    """How many ``legal.send`` tasks the workers received, and how many they finished."""
    received = finished = 0
    for worker in workers.processes:
        for line in worker.log_path.read_text(errors="replace").splitlines():
            if "Task legal.send[" in line:
                received += " received" in line
                finished += "succeeded" in line or "raised" in line
    return received, finished


# Two pages of one seller, and its banned account whose business profile names its site.
SELLER = "https://promoblast.sk/"
PAGES = (
    (
        SELLER,
        "Promo Blast: we send bulk WhatsApp messages to 100,000 customers a day. "
        "Call +421 905 111 222 or write to sales@promoblast.sk.",
    ),
    (
        SELLER + "pricing",
        "Promo Blast pricing: unlimited WhatsApp messages with WhatsApp automation, "
        "no ban guaranteed. Write to sales@promoblast.sk.",
    ),
)
PROFILE = {"name": "Promo Blast", "website": SELLER, "email": "sales@promoblast.sk"}
REASON = "sells a bulk sender with a 'no ban' guarantee"


def test_a_triage_verdict_given_in_the_browser_is_exported_as_a_label(
    browser: ConsolePage, env: Mapping[str, str], tmp_path: Path
) -> None:
    console_user("rita", "reviewer")
    with session_scope() as session:
        for url, text in PAGES:
            doc = {"observed_at": "2020-03-01T10:00:00+00:00", "url": url, "text": text}
            outcome = ingest_documents(session, IngestEvidence(documents=[doc]), now=utcnow())
            (follow_up,) = outcome.follow_ups
            assert isinstance(follow_up.message, LinkEvidence)
            link_evidence(session, follow_up.message)
        _, bans = banned_profile(session, "acc-promo-1", "+421905111222", PROFILE)
        link_evidence(session, LinkEvidence(evidence_ids=bans))
    with session_scope() as session:
        company_id = session.scalars(
            select(EvidenceLink.company_id).where(EvidenceLink.evidence_id == 1)
        ).one()

    browser.login("rita", PASSWORD)
    browser.open("/triage")
    assert browser.heading() == "Evidence triage"
    browser.submit("/triage/1", {"reason": REASON}, press="confirmed")
    assert (browser.path, browser.status()) == ("/triage?page=1", 200)
    assert browser.flash() == "Verdict on evidence 1 recorded: confirmed."

    labels = export_evidence_labels(env, tmp_path / "labels.jsonl")
    assert [(line["evidence_id"], line["url"]) for line in labels] == [(1, SELLER)]
    (label,) = labels
    assert (label["label"], label["verdict"], label["reason"]) == (True, "confirmed", REASON)
    assert label["decided_by"] == "rita"
    assert "100,000 customers a day" in label["text"]

    # The company the reading is linked to, as the reviewer follows the link.
    browser.driver.find_element(
        By.CSS_SELECTOR, f'#evidence-1 a[href="/companies/{company_id}"]'
    ).click()
    assert browser.path == f"/companies/{company_id}"
    assert "acc-promo-1" in browser.text(), "its banned account"
    browser.screenshot("company")


def export_evidence_labels(env: Mapping[str, str], out: Path) -> list[dict[str, Any]]:
    """``bulkguard labels export --evidence`` run as its own process on the test's database."""
    done = subprocess.run(
        [sys.executable, "-m", "workers.cli", "labels", "export", "--evidence", "--out", str(out)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "exported 1 verdicts on evidence readings" in done.stderr
    return [json.loads(line) for line in out.read_text().splitlines()]
