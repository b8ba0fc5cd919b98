"""Evidence triage in the console on a real database: the claims and borderline readings listed
(undecided first) with their passages and companies; a reviewer's verdict stored, audited,
replaced by a later one, and exported as the evidence reader's labels."""

from __future__ import annotations

import html
import json

from click.testing import CliRunner
from sqlalchemy import select

from infra.db.models import AuditEvent, EvidenceVerdict, utcnow
from infra.db.session import session_scope
from tasks.evidence.ingest import ingest_documents
from tasks.evidence.link import link_evidence
from tasks.messages import IngestEvidence, LinkEvidence
from tests.console_client import Console, console
from tests.people import PASSWORD, person
from tests.seed import banned_profile
from workers.cli.main import main

CLAIM = "We send bulk WhatsApp messages to 100,000 customers a day. Call +421 905 111 222."
# No claim, on a page that speaks as a seller and gives its contacts: borderline.
REPAIRS = "Blast Deals: we fix phones. Call +421 905 333 444 or write to shop@blastdeals.sk."
# Neither: news naming a vendor, and a page with no claim and no way to reach anyone.
NEWS = "News: a vendor said it sends bulk WhatsApp messages. Reporters asked the regulator."
BICYCLES = "We repair bicycles in Bratislava, Monday to Friday."


def _ingested(*pages: tuple[str, str]) -> None:
    for url, text in pages:
        doc = {"observed_at": "2020-03-01T10:00:00+00:00", "url": url, "text": text}
        with session_scope() as session:
            outcome = ingest_documents(session, IngestEvidence(documents=[doc]), now=utcnow())
            (follow_up,) = outcome.follow_ups
            assert isinstance(follow_up.message, LinkEvidence)
            link_evidence(session, follow_up.message)


def _logged_in(name: str, *roles: str) -> Console:
    with session_scope() as session:
        person(session, name, *roles)  # type: ignore[arg-type]
    browser = console()
    browser.login(name, PASSWORD)
    return browser


def _verdict(browser: Console, evidence_id: int, verdict: str, reason: str) -> int:
    response = browser.submit(
        f"/triage/{evidence_id}", {"verdict": verdict, "reason": reason}, form_at="/triage"
    )
    status: int = response.status_code
    return status


def test_a_reviewer_triages_readings_into_labels(env: dict[str, str]) -> None:
    _ingested(
        ("https://promoblast.sk/", CLAIM),
        ("https://blastdeals.sk/", REPAIRS),
        ("https://news.example/", NEWS),
        ("https://bikes.example/", BICYCLES),
    )
    with _logged_in("agent-7", "reviewer") as browser:
        assert "<dt>Evidence to triage</dt><dd>2</dd>" in browser.get("/").text
        page = browser.get("/triage").text
        assert 'id="evidence-1"' in page
        assert 'id="evidence-2"' in page
        assert 'id="evidence-3"' not in page
        assert 'id="evidence-4"' not in page
        assert page.index('id="evidence-1"') < page.index('id="evidence-2"')
        claim = page.split('id="evidence-1"')[1].split("</article>")[0]
        assert "We <mark>send bulk WhatsApp messages to 100,000 customers</mark> a day." in claim
        assert '<a href="/companies/1">1 promoblast</a>' in claim
        borderline = page.split('id="evidence-2"')[1].split("</article>")[0]
        assert "borderline: no claim found" in borderline
        assert "Blast Deals: we fix phones." in borderline

        assert _verdict(browser, 1, "confirmed", "sells a bulk sender") == 303
        assert _verdict(browser, 1, "rejected", "on second reading, a reseller's copy") == 303
        assert _verdict(browser, 2, "confirmed", "their price list offers blasts") == 303
        assert "<dt>Evidence to triage</dt><dd>0</dd>" in browser.get("/").text
        decided = browser.get("/triage").text
        # The latest verdict first among the decided.
        assert decided.index('id="evidence-2"') < decided.index('id="evidence-1"')
        assert "rejected by agent-7" in decided

    with session_scope() as session:
        verdicts = {v.evidence_id: v for v in session.scalars(select(EvidenceVerdict))}
        assert sorted(verdicts) == [1, 2]
        assert (verdicts[1].verdict, verdicts[1].reason, verdicts[1].decided_by) == (
            "rejected",
            "on second reading, a reseller's copy",
            "agent-7",
        )
        audited = list(
            session.scalars(
                select(AuditEvent)
                .where(AuditEvent.entity == "evidence", AuditEvent.entity_id == 1)
                .order_by(AuditEvent.id)
            )
        )
        assert [(a.event, a.details["verdict"], a.channel) for a in audited] == [
            ("verdict", "confirmed", "console"),
            ("verdict", "rejected", "console"),
        ]
        assert audited[0].details["replaces"] is None
        assert audited[1].details["replaces"]["reason"] == "sells a bulk sender"

    exported = CliRunner().invoke(main, ["labels", "export", "--kind", "evidence"])
    assert exported.exit_code == 0, exported.output
    flagged = CliRunner().invoke(main, ["labels", "export", "--evidence"])
    assert flagged.stdout == exported.stdout
    lines = [json.loads(line) for line in exported.stdout.splitlines() if line.startswith("{")]
    by_id = {line["evidence_id"]: line for line in lines}
    assert sorted(by_id) == [1, 2]
    first = by_id[1]
    assert first["label"] is False
    assert (first["verdict"], first["reason"], first["decided_by"]) == (
        "rejected",
        "on second reading, a reseller's copy",
        "agent-7",
    )
    assert first["text"] == CLAIM
    assert first["reading"]["claims_bulk"] is True
    assert first["reading"]["indicators"]["claims"] == ["bulk"]
    assert first["url"] == "https://promoblast.sk/"
    assert len(first["document_sha256"]) == 64
    assert by_id[2]["label"] is True
    assert by_id[2]["reading"]["claims_bulk"] is False


def test_a_verdict_is_refused_with_the_reason(env: dict[str, str]) -> None:
    _ingested(("https://promoblast.sk/", CLAIM))
    with session_scope() as session:
        _, (banned,) = banned_profile(session, "b1", "+421905000222", {"name": "Promo Blast"})
    with _logged_in("agent-7", "reviewer") as browser:
        refusals = [
            (banned, "confirmed", "reason", f"evidence {banned} is not a document the reader read"),
            (1, "maybe", "reason", "a verdict is confirmed or rejected"),
            (1, "confirmed", "  ", "a verdict needs a reason"),
            (99, "confirmed", "reason", "evidence 99 does not exist"),
        ]
        for evidence_id, verdict, reason, why in refusals:
            refused = browser.submit(
                f"/triage/{evidence_id}", {"verdict": verdict, "reason": reason}, form_at="/triage"
            )
            assert refused.status_code == 409
            assert why in html.unescape(refused.text)
        no_token = browser.post(
            "/triage/1", data={"verdict": "confirmed", "reason": "r"}, follow_redirects=False
        )
        assert no_token.status_code == 403
    with _logged_in("counsel-1", "counsel") as counsel:
        assert counsel.get("/triage").status_code == 403
        token = counsel.csrf("/")
        refused = counsel.post(
            "/triage/1",
            data={"verdict": "confirmed", "reason": "r", "csrf": token},
            follow_redirects=False,
        )
        assert refused.status_code == 403
    with session_scope() as session:
        assert session.scalars(select(EvidenceVerdict)).all() == []
        audited = select(AuditEvent).where(AuditEvent.entity == "evidence")
        assert session.scalars(audited).all() == []
