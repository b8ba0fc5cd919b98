"""Companies form a graph over shared strong keys, across any number of hops, and operators can
merge and split it, audited; on a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.db.models import (
    AuditEvent,
    Company,
    CompanySeparation,
    EvidenceLink,
    LegalNotice,
    NoticeEvent,
    utcnow,
)
from infra.mail import SandboxMailer
from infra.users import Actor
from tasks import outbox
from tasks.errors import TransientError
from tasks.evidence import company_graph
from tasks.evidence.company_graph import GraphError
from tasks.evidence.corrections import split_company
from tasks.evidence.ingest import ingest_documents
from tasks.evidence.link import link_evidence
from tasks.legal.approvals import ApprovalError, approve
from tasks.legal.evaluate import evaluate_company
from tasks.legal.policy import load_policy
from tasks.legal.send import send_notice
from tasks.legal.withdraw_drafts import withdraw_drafts
from tasks.messages import (
    EvaluateCompany,
    IngestEvidence,
    LinkEvidence,
    SendNotice,
    WithdrawDrafts,
)
from tests.people import person

POLICY = load_policy("2019-12-07.2")


def counsel(session: Session) -> Actor:
    return person(session, "counsel@example.com", "counsel")


def page(url: str, contacts: str, *, claim: bool = True, when: str = "2020-03-01") -> Any:
    offer = "We send bulk WhatsApp messages to 100,000 customers a day. " if claim else ""
    return {
        "kind": "advertisement" if claim else "other",
        "observed_at": f"{when}T10:00:00+00:00",
        "url": url,
        "text": f"{offer}{contacts}",
    }


def linked(session: Session, *documents: Any) -> list[int]:
    """Ingest and link ``documents`` one batch each, in order; their evidence ids."""
    ids = []
    for doc in documents:
        (follow_up,) = ingest_documents(
            session, IngestEvidence(documents=[doc]), now=utcnow()
        ).follow_ups
        assert isinstance(follow_up.message, LinkEvidence)
        link_evidence(session, follow_up.message)
        ids += follow_up.message.evidence_ids
    return ids


def owner(session: Session, evidence_id: int) -> int:
    """The one company ``evidence_id`` is strongly linked to."""
    (company_id,) = session.scalars(
        select(EvidenceLink.company_id).where(
            EvidenceLink.evidence_id == evidence_id,
            EvidenceLink.confidence >= POLICY.min_link_confidence,
        )
    ).all()
    return company_id


def live(session: Session) -> list[Company]:
    return list(
        session.scalars(select(Company).where(Company.merged_into.is_(None)).order_by(Company.id))
    )


def test_shells_sharing_a_number_are_one_company_across_hops(session: Session) -> None:
    a, b, c, d = linked(
        session,
        page("https://shell-a.com/", "Call +44 7911 123456."),
        page("https://shell-b.net/", "Call +44 7911 123456."),  # hop 1: the number
        page("https://shell-b.net/contact", "Write to ops@shell-c.io."),  # hop 2: the domain
        page("https://shell-d.org/", "Write to ops@shell-c.io."),  # hop 3: the address
    )
    assert owner(session, a) == owner(session, b) == owner(session, c) == owner(session, d)
    (company,) = live(session)
    graph = company_graph.describe(session, company.id)
    assert {
        ("domain", "shell-a.com"),
        ("domain", "shell-b.net"),
        ("domain", "shell-d.org"),
        ("email", "ops@shell-c.io"),
        ("phone", "+447911123456"),
    } <= set(graph.keys)
    assert graph.key_evidence[("phone", "+447911123456")] == [a, b]


def test_a_page_carrying_keys_of_two_companies_joins_them_into_the_older(
    session: Session,
) -> None:
    first, second = linked(
        session,
        page("https://alpha-send.com/", "Call +44 7911 100001."),
        page("https://beta-blast.com/", "Call +44 7911 200002."),
    )
    older, younger = owner(session, first), owner(session, second)
    assert older < younger
    for company_id in (older, younger):
        evaluate_company(
            session, EvaluateCompany(company_id=company_id), policy=POLICY, now=utcnow()
        )
    bridging = page("https://alpha-send.com/partners", "Also at beta-blast.com, +44 7911 200002.")
    (ingested,) = ingest_documents(
        session, IngestEvidence(documents=[bridging]), now=utcnow()
    ).follow_ups
    assert isinstance(ingested.message, LinkEvidence)
    (bridge,) = ingested.message.evidence_ids
    merging = link_evidence(session, ingested.message)

    assert owner(session, bridge) == owner(session, second) == owner(session, first) == older
    assert session.get_one(Company, younger).merged_into == older
    # The younger company's draft is withdrawn: nobody should sign a letter to half a company.
    # The legal stage withdraws it once the merge commits, as the pipeline runs the follow-up.
    draft = session.scalars(select(LegalNotice).where(LegalNotice.company_id == younger)).one()
    (withdrawal,) = [f.message for f in merging.follow_ups if isinstance(f.message, WithdrawDrafts)]
    assert (withdrawal.company_id, withdrawal.notice_ids) == (younger, [draft.id])
    assert (withdrawal.change, withdrawal.other_id) == ("merged", older)
    # Once the merge has committed its withdrawal, and until legal has run it, nobody can
    # approve the draft: it is addressed to a company that no longer exists.
    outbox.add(session, merging.follow_ups)
    with pytest.raises(ApprovalError, match=f"being withdrawn: .* merged into company {older}"):
        approve(session, draft.id, actor=counsel(session), note="", now=utcnow())
    withdrawn = withdraw_drafts(session, withdrawal, policy=POLICY, now=utcnow())
    assert draft.status == "withdrawn"
    assert withdrawn.summary["withdrawn"] == [draft.reference]
    # Delivered again, it withdraws nothing more.
    assert (
        withdraw_drafts(session, withdrawal, policy=POLICY, now=utcnow()).summary["withdrawn"] == []
    )
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.entity == "company").order_by(AuditEvent.id)
    ).all()
    assert [(e.entity_id, e.event, e.actor) for e in events] == [
        (older, "absorbed", "evidence.link"),
        (younger, "merged", "evidence.link"),
    ]
    # A late evaluation of the absorbed company evaluates the one it became.
    outcome = evaluate_company(
        session, EvaluateCompany(company_id=younger), policy=POLICY, now=utcnow()
    )
    assert outcome.summary["company_id"] == older


def test_linking_the_same_evidence_again_changes_nothing(session: Session) -> None:
    docs = [
        page("https://alpha-send.com/", "Call +44 7911 100001."),
        page("https://beta-blast.com/", "Call +44 7911 100001."),
    ]
    ids = linked(session, *docs)
    before = session.execute(select(EvidenceLink.evidence_id, EvidenceLink.company_id)).all()
    link_evidence(session, LinkEvidence(evidence_ids=ids))
    after = session.execute(select(EvidenceLink.evidence_id, EvidenceLink.company_id)).all()
    assert sorted(before) == sorted(after)
    assert len(live(session)) == 1


def test_news_naming_a_vendor_links_it_weakly_and_makes_no_company(session: Session) -> None:
    (claim,) = linked(session, page("https://zapblaster.io/", "Orders: sales@zapblaster.io"))
    vendor = owner(session, claim)
    session.get_one(Company, vendor).normalized_name = "zapblaster"
    news = {
        "kind": "report",
        "observed_at": "2020-04-01T10:00:00+00:00",
        "url": "https://www.dailytech-news.com/2020/04/bans",
        "publisher": "Daily Tech News",
        "text": (
            "LONDON (Daily Tech News) — The messaging platform said on Tuesday it had banned "
            "thousands of accounts, according to a spokesperson. Reporters found that ZapBlaster, "
            "which advertised unlimited bulk WhatsApp messages, kept selling its tool; the firm "
            "did not respond to a request for comment. Its contact, sales@zapblaster.io, was "
            "still listed, the report said."
        ),
    }
    (story,) = linked(session, news)
    links = session.scalars(select(EvidenceLink).where(EvidenceLink.evidence_id == story)).all()
    assert [(link.company_id, link.method) for link in links] == [(vendor, "named_in_news")]
    assert links[0].confidence < POLICY.min_link_confidence
    assert len(live(session)) == 1  # neither the newspaper nor a second vendor
    # The vendor's address in a story is not the newspaper's: the vendor keeps it alone.
    assert ("domain", "dailytech-news.com") not in company_graph.describe(session, vendor).keys


def test_an_operator_merges_two_companies_audited(session: Session) -> None:
    first, second = linked(
        session,
        page("https://alpha-send.com/", "Call +44 7911 100001."),
        page("https://beta-blast.com/", "Call +44 7911 200002."),
    )
    a, b = owner(session, first), owner(session, second)
    company_graph.merge(session, a, b, actor=counsel(session), reason="same director")
    assert owner(session, second) == a
    graph = company_graph.describe(session, a)
    assert [c.id for c in graph.absorbed] == [b]
    assert ("domain", "beta-blast.com") in graph.keys
    assert graph.history[-1].details["reason"] == "same director"
    with pytest.raises(GraphError, match="already part of"):
        company_graph.merge(session, a, b, actor=counsel(session), reason="again")


def test_an_operator_splits_a_company_and_it_stays_split(session: Session) -> None:
    a, b = linked(
        session,
        page("https://alpha-send.com/", "Call +44 7911 100001."),
        page("https://beta-blast.com/", "Call +44 7911 100001. Or sales@beta-blast.com"),
    )
    (company,) = live(session)
    new, withdrawals = company_graph.split(
        session,
        company.id,
        [("domain", "beta-blast.com"), ("email", "sales@beta-blast.com")],
        actor=counsel(session),
        reason="a reseller quoting the other's number",
    )
    assert withdrawals == []  # no notice to the company was open
    # The page that carries keys of both sides is linked to both; the other stays put.
    assert owner(session, a) == company.id
    assert {
        link.company_id
        for link in session.scalars(select(EvidenceLink).where(EvidenceLink.evidence_id == b))
    } == {company.id, new.id}
    assert session.scalars(select(CompanySeparation)).one().other_id == new.id

    # New evidence carrying keys of both no longer merges them.
    (again,) = linked(
        session, page("https://beta-blast.com/new", "Call +44 7911 100001, sales@beta-blast.com")
    )
    assert len(live(session)) == 2
    assert {
        link.company_id
        for link in session.scalars(select(EvidenceLink).where(EvidenceLink.evidence_id == again))
    } == {company.id, new.id}


def test_a_split_must_name_keys_the_company_holds_and_leave_some(session: Session) -> None:
    (only,) = linked(session, page("https://alpha-send.com/", "Call +44 7911 100001."))
    company_id = owner(session, only)
    with pytest.raises(GraphError, match="does not hold"):
        company_graph.split(
            session, company_id, [("domain", "x.com")], actor=counsel(session), reason="r"
        )
    with pytest.raises(GraphError, match="leave nothing"):
        company_graph.split(
            session,
            company_id,
            [("domain", "alpha-send.com"), ("phone", "+447911100001")],
            actor=counsel(session),
            reason="r",
        )


def test_a_contact_page_on_a_companys_own_site_gives_it_its_numbers(session: Session) -> None:
    claim, contact, other = linked(
        session,
        page("https://shell-a.com/", "Bulk sender."),
        page("https://shell-a.com/contact", "Call us: +44 7911 123456.", claim=False),
        page("https://shell-b.net/", "Call +44 7911 123456."),
    )
    assert owner(session, claim) == owner(session, contact) == owner(session, other)
    # A page on somebody else's site only mentions the number: it joins nothing.
    (news,) = linked(
        session, page("https://news.example-daily.com/a", "Vendor: +44 7911 123456.", claim=False)
    )
    assert len(live(session)) == 1
    link = session.scalars(select(EvidenceLink).where(EvidenceLink.evidence_id == news)).one()
    assert (link.method, link.confidence < POLICY.min_link_confidence) == ("mentioned", True)


def test_a_split_has_legal_withdraw_the_open_notice_then_evaluate(
    session: Session, tmp_path: Path
) -> None:
    linked(
        session,
        page("https://alpha-send.com/", "Call +44 7911 100001."),
        page("https://beta-blast.com/", "Call +44 7911 100001. Or sales@beta-blast.com"),
    )
    (company,) = live(session)
    evaluate_company(session, EvaluateCompany(company_id=company.id), policy=POLICY, now=utcnow())
    draft = session.scalars(select(LegalNotice).where(LegalNotice.company_id == company.id)).one()
    approve(session, draft.id, actor=counsel(session), note="", now=utcnow())

    split = split_company(
        session,
        company.id,
        [("domain", "beta-blast.com"), ("email", "sales@beta-blast.com")],
        actor=counsel(session),
        reason="a reseller quoting the other's number",
        now=utcnow(),
    )
    new = split.summary["new_company_id"]
    # The withdrawal evaluates the company afterwards: no evaluation of its own races it.
    withdrawal, evaluation = (f.message for f in split.follow_ups)
    assert isinstance(withdrawal, WithdrawDrafts)
    assert (withdrawal.company_id, withdrawal.notice_ids) == (company.id, [draft.id])
    assert (withdrawal.change, withdrawal.other_id, withdrawal.actor) == (
        "split",
        new,
        "counsel@example.com",
    )
    assert evaluation == EvaluateCompany(company_id=new)
    assert draft.status != "withdrawn"  # not by the evidence stage
    # The approved letter is not sent while its withdrawal waits on the same queue.
    outbox.add(session, split.follow_ups)
    mailer = SandboxMailer(tmp_path / "mail")
    with pytest.raises(
        TransientError, match=f"not sent: its company was split, keys to company {new}"
    ):
        send_notice(
            session,
            SendNotice(notice_id=draft.id),
            mailer=mailer,
            sender="legal@bulkguard.example",
            now=utcnow(),
        )
    assert not (tmp_path / "mail").exists()

    outcome = withdraw_drafts(session, withdrawal, policy=POLICY, now=utcnow())
    assert draft.status == "withdrawn"
    assert outcome.summary["evaluated"]["company_id"] == company.id
    event = session.scalars(
        select(NoticeEvent).where(NoticeEvent.notice_id == draft.id).order_by(NoticeEvent.id)
    ).all()[-1]
    assert (event.status, event.actor, event.note) == (
        "withdrawn",
        "counsel@example.com",
        f"keys split off to company {new}",
    )
