"""The console's company pages on a real database: found by domain and by number, read with
their keys, every evidence item's standing (what an appeal withdrew marked so) and each
document's claim passage highlighted with its SHA-256; merged and split by counsel through the
decision bodies of ``bulkguard companies``, each followed by a legal re-evaluation in the
outbox; refused with the reason, or for a reviewer."""

from __future__ import annotations

import hashlib
import html
from typing import Any

from sqlalchemy import select

from infra.db.models import Company, OutboxMessage, utcnow
from infra.db.session import session_scope
from tasks.enforcement.appeals import decide_appeal
from tasks.evidence.company_graph import keys_of, live_company
from tasks.evidence.ingest import ingest_documents
from tasks.evidence.link import link_evidence
from tasks.messages import IngestEvidence, LinkEvidence
from tasks.neighbourhoods.memory import MemoryNeighbourStore
from tests.console_client import Console, console
from tests.people import PASSWORD, person
from tests.seed import banned_profile

CLAIM = (
    "We send bulk WhatsApp messages to 100,000 customers a day. Write to sales@promoblast.sk "
    "or call +421 905 482 173. Tom & Jerry say 1 < 2."
)


def _documents(*pages: tuple[str, str]) -> None:
    """Off-platform documents, ingested and linked as the evidence workers do."""
    for url, text in pages:
        doc = {"observed_at": "2020-03-01T10:00:00+00:00", "url": url, "text": text}
        with session_scope() as session:
            outcome = ingest_documents(session, IngestEvidence(documents=[doc]), now=utcnow())
            (follow_up,) = outcome.follow_ups
            assert isinstance(follow_up.message, LinkEvidence)
            link_evidence(session, follow_up.message)


def _company_with_a_withdrawn_ban() -> tuple[int, int]:
    """A company made of a banned account's profile (the ban then overturned on appeal) and a
    vendor's page that claims bulk sending: (company id, the withdrawn evidence's id)."""
    with session_scope() as session:
        ban, (banned,) = banned_profile(
            session, "b1", "+421905000222", {"name": "Promo Blast", "email": "sales@promoblast.sk"}
        )
        link_evidence(session, LinkEvidence(evidence_ids=[banned]))
    _documents(("https://promoblast.sk/", CLAIM))
    with session_scope() as session:
        decide_appeal(
            session,
            ban,
            outcome="overturn",
            actor=person(session, "agent-7", "reviewer"),
            reason="family business, verified by phone",
            neighbours=MemoryNeighbourStore(),
            now=utcnow(),
        )
        (company,) = session.scalars(select(Company).where(Company.merged_into.is_(None)))
        return company.id, banned


def _logged_in(name: str, *roles: str) -> Console:
    with session_scope() as session:
        person(session, name, *roles)  # type: ignore[arg-type]
    browser = console()
    browser.login(name, PASSWORD)
    return browser


def _evaluations() -> list[str]:
    with session_scope() as session:
        return list(
            session.scalars(
                select(OutboxMessage.dedupe_key)
                .where(OutboxMessage.task_name == "legal.evaluate")
                .order_by(OutboxMessage.id)
            )
        )


def test_a_reviewer_finds_and_reads_a_company_but_may_not_reshape_it(env: dict[str, str]) -> None:
    company_id, withdrawn = _company_with_a_withdrawn_ban()
    with _logged_in("agent-7", "reviewer") as browser:
        # By domain (or a URL of the site), and by number however it is written.
        queries = (
            "promoblast.sk",
            "https://www.promoblast.sk/prices",
            "0905 482 173",
            "+421905482173",
        )
        for query in queries:
            found = browser.get("/companies", params={"q": query})
            assert found.status_code == 200
            assert f'href="/companies/{company_id}"' in found.text, query
        nothing = browser.get("/companies", params={"q": "elsewhere.example"})
        assert f'href="/companies/{company_id}"' not in nothing.text
        assert "No company matches" in nothing.text

        page = browser.get(f"/companies/{company_id}")
        assert page.status_code == 200
        text = page.text
        assert '<span class="tag">domain</span> promoblast.sk' in text
        assert '<span class="tag">phone</span> +421905482173' in text
        assert "1 of 2 evidence items standing" in text
        withdrawn_item = text.split(f'id="evidence-{withdrawn}"')[1].split("</article>")[0]
        assert '<span class="tag bad">withdrawn</span>' in withdrawn_item
        assert "family business, verified by phone (appeal overturned by agent-7)" in withdrawn_item
        claim_item = text.split('id="evidence-2"')[1].split("</article>")[0]
        assert '<span class="tag ok">standing</span>' in claim_item
        passage = "We <mark>send bulk WhatsApp messages to 100,000 customers</mark> a day."
        assert passage in claim_item
        # The document's own text is escaped, never markup of the page.
        assert "Tom &amp; Jerry say 1 &lt; 2." in claim_item
        assert hashlib.sha256(CLAIM.encode()).hexdigest() in claim_item
        assert "<td>b1</td><td>reversed</td>" in text
        assert f'action="/companies/{company_id}/merge"' not in text

        token = browser.csrf(f"/companies/{company_id}")
        merge = browser.post(
            f"/companies/{company_id}/merge",
            data={"others": "2", "reason": "same owner", "csrf": token},
            follow_redirects=False,
        )
        split = browser.post(
            f"/companies/{company_id}/split",
            data={"keys": ["phone:+421905482173"], "reason": "a reseller", "csrf": token},
            follow_redirects=False,
        )
        assert (merge.status_code, split.status_code) == (403, 403)
        assert "this page is for counsel or admin" in html.unescape(split.text)
    with session_scope() as session:
        assert len(session.scalars(select(Company)).all()) == 1
    assert _evaluations() == []


def test_counsel_splits_and_merges_a_company(env: dict[str, str]) -> None:
    _documents(
        ("https://alpha-send.com/", "We send bulk WhatsApp messages. Call +44 7911 100001."),
        (
            "https://beta-blast.com/",
            "We send bulk WhatsApp messages. Call +44 7911 100001, sales@beta-blast.com",
        ),
    )
    with session_scope() as session:
        (company_id,) = session.scalars(select(Company.id).where(Company.merged_into.is_(None)))
    with _logged_in("counsel-1", "counsel") as browser:
        page = browser.get(f"/companies/{company_id}")
        assert 'name="keys" value="domain:beta-blast.com"' in page.text
        split = browser.post(
            f"/companies/{company_id}/split",
            data={
                "keys": ["domain:beta-blast.com", "email:sales@beta-blast.com"],
                "name": "Beta Blast",
                "reason": "a reseller quoting the number",
                "csrf": browser.csrf(f"/companies/{company_id}"),
            },
            follow_redirects=False,
        )
        assert split.status_code == 303, split.text
        assert split.headers["location"] == f"/companies/{company_id}"
        with session_scope() as session:
            (new_id,) = session.scalars(
                select(Company.id).where(Company.id != company_id, Company.merged_into.is_(None))
            )
            assert keys_of(session, new_id) == [
                ("domain", "beta-blast.com"),
                ("email", "sales@beta-blast.com"),
            ]
            assert ("domain", "beta-blast.com") not in keys_of(session, company_id)
            assert session.get_one(Company, new_id).name == "Beta Blast"
        after = browser.get(split.headers["location"])
        assert f"Company {new_id} split from {company_id}" in after.text
        assert f'Kept apart from: <a href="/companies/{new_id}">{new_id}</a>' in after.text
        assert "split by counsel-1" in after.text
        assert [k.split(":")[1] for k in _evaluations()] == [str(company_id), str(new_id)]

        merge = browser.submit(
            f"/companies/{company_id}/merge",
            {"others": str(new_id), "reason": "the same director"},
            form_at=f"/companies/{company_id}",
        )
        assert merge.status_code == 303, merge.text
        with session_scope() as session:
            assert live_company(session, new_id).id == company_id
            assert ("domain", "beta-blast.com") in keys_of(session, company_id)
        assert [k.split(":")[1] for k in _evaluations()][2:] == [str(company_id)]
        absorbed = browser.get(f"/companies/{new_id}")
        assert absorbed.status_code == 200
        assert f"Company {new_id} was merged into this one." in absorbed.text
        assert f"<h1>Company {company_id}: " in absorbed.text
        assert f"Merged from: {new_id} (Beta Blast)" in absorbed.text


def test_a_bad_correction_is_refused_with_the_reason(env: dict[str, str]) -> None:
    _documents(("https://alpha-send.com/", "We send bulk WhatsApp messages. Call +44 7911 100001."))
    with _logged_in("counsel-1", "counsel") as browser:
        path = "/companies/1"
        refusals: list[tuple[str, dict[str, Any], str]] = [
            ("merge", {"others": "1", "reason": "r"}, "company 1 is already part of company 1"),
            ("merge", {"others": "99", "reason": "r"}, "company 99 does not exist"),
            ("merge", {"others": "one", "reason": "r"}, "name the companies to merge by their ids"),
            ("merge", {"others": "99", "reason": " "}, "a merge needs a reason"),
            ("split", {"reason": "r"}, "name at least one key to split off"),
            ("split", {"keys": "twitter:x", "reason": "r"}, "'twitter:x' is not a key"),
            (
                "split",
                {"keys": ["domain:alpha-send.com", "phone:+447911100001"], "reason": "r"},
                "would leave nothing",
            ),
        ]
        for action, data, reason in refusals:
            refused = browser.post(
                f"{path}/{action}",
                data={**data, "csrf": browser.csrf(path)},
                follow_redirects=False,
            )
            assert refused.status_code == 409, (action, data)
            assert reason in html.unescape(refused.text), refused.text
        assert browser.get("/companies/99").status_code == 404
        no_token = browser.post(
            f"{path}/merge", data={"others": "1", "reason": "r"}, follow_redirects=False
        )
        assert no_token.status_code == 403
    with session_scope() as session:
        assert len(session.scalars(select(Company)).all()) == 1
    assert _evaluations() == []
