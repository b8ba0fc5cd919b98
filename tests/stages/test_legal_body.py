"""The legal bodies (evaluate, approvals, send, escalate) on a real database (SQLite and
PostgreSQL), rolled back after each test. State is built by the evidence bodies themselves."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from infra.db.models import Account, Delivery, LegalNotice, NoticeEvent
from infra.sinks import JsonlSink
from tasks.evidence.ingest import ingest_documents
from tasks.evidence.link import link_evidence
from tasks.legal.approvals import ApprovalError, decide
from tasks.legal.escalate import escalate_stale
from tasks.legal.evaluate import evaluate_company
from tasks.legal.policy import BASIS_OFF_PLATFORM
from tasks.legal.send import send_notice
from tasks.messages import EvaluateCompany, FollowUp, IngestEvidence, LinkEvidence, SendNotice
from tasks.outcome import Outcome

POLICY = "test-policy-1"
SITE = "https://www.acmereach.sk"


def claim(observed_at: str, *, path: str = "/offer", text: str | None = None) -> dict[str, Any]:
    """A bulk-messaging claim on Acme Reach's own site."""
    return {
        "source": "off_platform",
        "kind": "public_claim",
        "observed_at": observed_at,
        "url": f"{SITE}{path}",
        "publisher": "Acme Reach s.r.o.",
        "title": "Acme Reach",
        "text": text
        or "We send bulk WhatsApp messages to 100,000 customers. Call +421 905 111 222.",
    }


def add_evidence(session: Session, *documents: dict[str, Any]) -> tuple[int, list[int]]:
    """Ingest and link ``documents`` of one company: its id, and the new evidence ids."""
    (ingested,) = ingest_documents(session, IngestEvidence(documents=list(documents))).follow_ups
    assert isinstance(ingested.message, LinkEvidence)
    ids = ingested.message.evidence_ids
    (evaluation,) = link_evidence(session, ingested.message).follow_ups
    assert isinstance(evaluation.message, EvaluateCompany)
    return evaluation.message.company_id, ids


def evaluate(session: Session, company_id: int) -> Outcome:
    return evaluate_company(session, EvaluateCompany(company_id=company_id), policy_version=POLICY)


def drafted(session: Session, *documents: dict[str, Any]) -> LegalNotice:
    """A notice awaiting approval, drafted from ``documents``."""
    company_id, _ = add_evidence(session, *documents)
    notice_id = evaluate(session, company_id).summary["notice_id"]
    notice = session.get(LegalNotice, notice_id)
    assert notice is not None
    return notice


def approved(session: Session) -> LegalNotice:
    notice = drafted(session, claim("2020-01-15T10:00:00+00:00"))
    decide(session, notice.id, approve=True, actor="counsel@example.com", note="checked")
    return notice


def reread(session: Session, notice: LegalNotice) -> None:
    """Write what a body changed, as its task's commit would, and read the row back."""
    session.flush()
    session.refresh(notice)


def events(session: Session, notice_id: int) -> list[tuple[str, str, str]]:
    rows = session.execute(
        select(NoticeEvent.status, NoticeEvent.actor, NoticeEvent.note)
        .where(NoticeEvent.notice_id == notice_id)
        .order_by(NoticeEvent.id)
    )
    return [(status, actor, note) for status, actor, note in rows]


def count(session: Session, model: Any) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def utc(year: int, month: int, day: int, hour: int) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=dt.UTC)


# ------------------------------------------------------------------------------ evaluate


def test_a_claim_continuing_after_the_cutoff_drafts_a_notice(session: Session) -> None:
    company_id, (before, after) = add_evidence(
        session,
        claim("2019-11-01T09:00:00+00:00"),
        claim("2020-01-15T10:00:00+01:00", path="/pricing"),
    )
    outcome = evaluate(session, company_id)

    notice = session.scalars(select(LegalNotice)).one()
    assert outcome.summary == {
        "company_id": company_id,
        "eligible": True,
        "notice_id": notice.id,
        "basis": BASIS_OFF_PLATFORM,
    }
    assert outcome.follow_ups == []
    assert (notice.company_id, notice.policy_version) == (company_id, POLICY)
    assert (notice.status, notice.basis) == ("awaiting_approval", BASIS_OFF_PLATFORM)
    # The claim from before the cut-off is cited too: it shows how long the activity went on.
    assert notice.cited_evidence == [before, after]
    assert notice.activity_first == utc(2019, 11, 1, 9)
    assert notice.activity_last == utc(2020, 1, 15, 9)
    assert notice.approved_by is None
    assert notice.escalated_at is None
    assert "To: Acme Reach s.r.o. (acmereach.sk)" in notice.body
    assert f"Policy version: {POLICY}" in notice.body
    assert "01 November 2019 to 15 January 2020" in notice.body
    assert f"[E{before}] 2019-11-01" in notice.body
    assert f"[E{after}] 2020-01-15" in notice.body
    assert f"{SITE}/pricing" in notice.body
    ((status, actor, note),) = events(session, notice.id)
    assert (status, actor) == ("awaiting_approval", "bulkguard")
    assert note.startswith("drafted: off-platform evidence alone")


def test_the_body_names_accounts_tied_to_the_company(session: Session) -> None:
    session.add(
        Account(account_id="acct-1", phone="+421905111222", phone_block="+421905111", country="SK")
    )
    session.flush()
    notice = drafted(session, claim("2020-01-15T10:00:00+00:00"))
    assert "Accounts on the service tied to the company: 1 (acct-1)." in notice.body


def test_claims_only_before_the_cutoff_draft_nothing(session: Session) -> None:
    company_id, _ = add_evidence(
        session,
        claim("2019-10-01T09:00:00+00:00"),
        claim("2019-12-06T23:59:59+00:00", path="/pricing"),
    )
    outcome = evaluate(session, company_id)

    assert outcome.summary == {
        "company_id": company_id,
        "eligible": False,
        "reason": "off-platform evidence only, all of it dated before 07 December 2019, "
        "and no sign the activity continued",
    }
    assert outcome.follow_ups == []
    assert count(session, LegalNotice) == 0
    assert count(session, NoticeEvent) == 0


@pytest.mark.parametrize(
    ("observed_at", "eligible"),
    [
        # 00:30 UTC on 7 December, recorded at UTC-1: on the cut-off date.
        ("2019-12-06T23:30:00-01:00", True),
        # 23:30 UTC on 6 December, recorded at UTC+1: before it.
        ("2019-12-07T00:30:00+01:00", False),
    ],
)
def test_the_cutoff_is_a_date_in_utc(session: Session, observed_at: str, eligible: bool) -> None:
    company_id, _ = add_evidence(session, claim(observed_at))
    assert evaluate(session, company_id).summary["eligible"] is eligible
    assert count(session, LegalNotice) == int(eligible)


def test_evaluating_again_without_new_evidence_changes_nothing(session: Session) -> None:
    company_id, _ = add_evidence(session, claim("2020-01-15T10:00:00+00:00"))
    first = evaluate(session, company_id)
    notice = session.scalars(select(LegalNotice)).one()
    before = (notice.cited_evidence, notice.body, notice.activity_last, notice.updated_at)

    second = evaluate(session, company_id)
    session.flush()

    assert second.summary == first.summary
    assert count(session, LegalNotice) == 1
    assert (notice.cited_evidence, notice.body, notice.activity_last, notice.updated_at) == before
    assert len(events(session, notice.id)) == 1


def test_new_evidence_refreshes_a_draft_awaiting_approval(session: Session) -> None:
    notice = drafted(session, claim("2020-01-15T10:00:00+00:00"))
    (first,) = notice.cited_evidence

    company_id, (later,) = add_evidence(
        session,
        claim(
            "2020-03-02T08:00:00+00:00",
            path="/news",
            text="WhatsApp blast service: now for 1,000,000 numbers.",
        ),
    )
    assert company_id == notice.company_id
    outcome = evaluate(session, company_id)

    assert outcome.summary["notice_id"] == notice.id
    assert count(session, LegalNotice) == 1
    reread(session, notice)
    assert notice.status == "awaiting_approval"
    assert notice.cited_evidence == [first, later]
    assert notice.activity_first == utc(2020, 1, 15, 10)
    assert notice.activity_last == utc(2020, 3, 2, 8)
    assert f"[E{later}] 2020-03-02" in notice.body
    assert "15 January 2020 to 02 March 2020" in notice.body
    assert [note for _, _, note in events(session, notice.id)][1:] == [
        "evidence updated: 2 items cited"
    ]


def test_evidence_that_is_not_cited_leaves_the_draft_alone(session: Session) -> None:
    notice = drafted(session, claim("2020-01-15T10:00:00+00:00"))
    cited, body = list(notice.cited_evidence), notice.body
    contact = claim("2020-02-01T00:00:00+00:00", path="/contact", text="Contact us any time.")
    add_evidence(session, contact)

    evaluate(session, notice.company_id)
    reread(session, notice)
    assert (notice.cited_evidence, notice.body) == (cited, body)
    assert len(events(session, notice.id)) == 1


def test_an_approved_notice_is_never_rewritten(session: Session) -> None:
    notice = approved(session)
    cited, body, last = list(notice.cited_evidence), notice.body, notice.activity_last
    add_evidence(session, claim("2020-05-01T00:00:00+00:00", path="/may"))

    outcome = evaluate(session, notice.company_id)

    assert outcome.summary == {
        "company_id": notice.company_id,
        "eligible": True,
        "notice_id": notice.id,
        "status": "approved",
    }
    reread(session, notice)
    assert (notice.status, notice.cited_evidence, notice.body) == ("approved", cited, body)
    assert notice.activity_last == last
    assert [status for status, _, _ in events(session, notice.id)] == [
        "awaiting_approval",
        "approved",
    ]
    assert count(session, LegalNotice) == 1


def test_each_policy_version_has_its_own_notice(session: Session) -> None:
    notice = approved(session)
    outcome = evaluate_company(
        session, EvaluateCompany(company_id=notice.company_id), policy_version="test-policy-2"
    )
    assert outcome.summary["notice_id"] != notice.id
    new = session.get(LegalNotice, outcome.summary["notice_id"])
    assert new is not None
    assert (new.status, new.policy_version) == ("awaiting_approval", "test-policy-2")


def test_an_unknown_company_cannot_be_evaluated(session: Session) -> None:
    with pytest.raises(LookupError, match="company 999999 does not exist"):
        evaluate(session, 999_999)


# ------------------------------------------------------------------------------ approvals


def test_an_approval_records_its_approver_and_hands_on_sending(session: Session) -> None:
    notice = drafted(session, claim("2020-01-15T10:00:00+00:00"))
    outcome = decide(session, notice.id, approve=True, actor="counsel@example.com", note="ok")

    assert outcome.summary == {"notice_id": notice.id, "status": "approved"}
    assert outcome.follow_ups == [
        FollowUp(SendNotice(notice_id=notice.id), dedupe_key=f"legal.send:{notice.id}")
    ]
    reread(session, notice)
    assert (notice.status, notice.approved_by) == ("approved", "counsel@example.com")
    assert notice.approved_at is not None
    assert events(session, notice.id)[-1] == ("approved", "counsel@example.com", "ok")


def test_a_rejection_sends_nothing(session: Session) -> None:
    notice = drafted(session, claim("2020-01-15T10:00:00+00:00"))
    outcome = decide(
        session, notice.id, approve=False, actor="counsel@example.com", note="weak evidence"
    )

    assert outcome.summary == {"notice_id": notice.id, "status": "rejected"}
    assert outcome.follow_ups == []
    reread(session, notice)
    assert notice.status == "rejected"
    assert (notice.approved_by, notice.approved_at) == (None, None)
    assert events(session, notice.id)[-1] == ("rejected", "counsel@example.com", "weak evidence")


@pytest.mark.parametrize("first", [True, False])
@pytest.mark.parametrize("second", [True, False])
def test_a_notice_is_decided_once(session: Session, first: bool, second: bool) -> None:
    notice = drafted(session, claim("2020-01-15T10:00:00+00:00"))
    decide(session, notice.id, approve=first, actor="counsel@example.com", note="")
    with pytest.raises(ApprovalError, match="not awaiting approval"):
        decide(session, notice.id, approve=second, actor="other@example.com", note="")
    reread(session, notice)
    assert notice.status == ("approved" if first else "rejected")
    assert notice.approved_by == ("counsel@example.com" if first else None)
    assert len(events(session, notice.id)) == 2


@pytest.mark.parametrize("actor", ["", "   "])
def test_an_approval_must_name_its_approver(session: Session, actor: str) -> None:
    notice = drafted(session, claim("2020-01-15T10:00:00+00:00"))
    with pytest.raises(ApprovalError, match="must name the person"):
        decide(session, notice.id, approve=True, actor=actor, note="")
    reread(session, notice)
    assert notice.status == "awaiting_approval"
    assert len(events(session, notice.id)) == 1


def test_an_unknown_notice_cannot_be_decided(session: Session) -> None:
    with pytest.raises(ApprovalError, match="no legal notice 999999"):
        decide(session, 999_999, approve=True, actor="counsel@example.com", note="")


# ------------------------------------------------------------------------------ send


def test_an_approved_notice_is_sent_once(session: Session, tmp_path: Path) -> None:
    sink = JsonlSink(tmp_path / "legal" / "notices.jsonl")
    notice = approved(session)

    first = send_notice(session, SendNotice(notice_id=notice.id), sink=sink)

    assert first.summary == {"notice_id": notice.id, "status": "sent", "delivered": True}
    assert first.follow_ups == []
    (line,) = sink.path.read_text().splitlines()
    assert json.loads(line) == {
        "idempotency_key": f"notice-{notice.id}",
        "notice_id": notice.id,
        "company_id": notice.company_id,
        "basis": BASIS_OFF_PLATFORM,
        "cited_evidence": notice.cited_evidence,
        "approved_by": "counsel@example.com",
        "body": notice.body,
    }
    reread(session, notice)
    assert notice.status == "sent"
    assert notice.sent_at is not None
    delivery = session.scalars(select(Delivery)).one()
    assert (delivery.kind, delivery.ref_id, delivery.sink) == ("legal_notice", notice.id, str(sink))
    assert events(session, notice.id)[-1] == ("sent", "bulkguard", str(sink))

    second = send_notice(session, SendNotice(notice_id=notice.id), sink=sink)

    assert second.summary == {"notice_id": notice.id, "status": "sent", "delivered": False}
    assert len(sink.path.read_text().splitlines()) == 1
    assert count(session, Delivery) == 1
    assert len(events(session, notice.id)) == 3


def test_a_notice_awaiting_approval_is_never_sent(session: Session, tmp_path: Path) -> None:
    sink = JsonlSink(tmp_path / "notices.jsonl")
    notice = drafted(session, claim("2020-01-15T10:00:00+00:00"))

    with pytest.raises(ApprovalError, match="only approved notices are sent"):
        send_notice(session, SendNotice(notice_id=notice.id), sink=sink)

    assert not sink.path.exists()
    assert count(session, Delivery) == 0
    reread(session, notice)
    assert (notice.status, notice.sent_at) == ("awaiting_approval", None)


def test_a_rejected_notice_is_never_sent(session: Session, tmp_path: Path) -> None:
    sink = JsonlSink(tmp_path / "notices.jsonl")
    notice = drafted(session, claim("2020-01-15T10:00:00+00:00"))
    decide(session, notice.id, approve=False, actor="counsel@example.com", note="no")

    with pytest.raises(ApprovalError, match="is rejected"):
        send_notice(session, SendNotice(notice_id=notice.id), sink=sink)
    assert not sink.path.exists()
    assert count(session, Delivery) == 0


def test_an_unknown_notice_cannot_be_sent(session: Session, tmp_path: Path) -> None:
    with pytest.raises(LookupError, match="legal notice 999999 does not exist"):
        send_notice(session, SendNotice(notice_id=999_999), sink=JsonlSink(tmp_path / "n.jsonl"))


# ------------------------------------------------------------------------------ escalate


def test_a_stale_draft_is_escalated_once(session: Session) -> None:
    notice = drafted(session, claim("2020-01-15T10:00:00+00:00"))
    now = notice.created_at + dt.timedelta(hours=49)

    outcome = escalate_stale(session, now=now)

    assert outcome.summary == {"escalated": 1}
    assert outcome.follow_ups == []
    reread(session, notice)
    assert notice.escalated_at == now
    assert notice.status == "awaiting_approval"
    assert events(session, notice.id)[-1] == (
        "awaiting_approval",
        "bulkguard",
        "escalated: no decision within 2 days, 0:00:00",
    )

    later = escalate_stale(session, now=now + dt.timedelta(days=7))

    assert later.summary == {"escalated": 0}
    reread(session, notice)
    assert notice.escalated_at == now
    assert len(events(session, notice.id)) == 2


def test_a_fresh_draft_is_not_escalated(session: Session) -> None:
    notice = drafted(session, claim("2020-01-15T10:00:00+00:00"))
    outcome = escalate_stale(session, now=notice.created_at + dt.timedelta(hours=47))
    assert outcome.summary == {"escalated": 0}
    reread(session, notice)
    assert notice.escalated_at is None
    assert len(events(session, notice.id)) == 1


def test_a_decided_notice_is_not_escalated(session: Session) -> None:
    notice = approved(session)
    outcome = escalate_stale(session, now=notice.created_at + dt.timedelta(days=30))
    assert outcome.summary == {"escalated": 0}
    reread(session, notice)
    assert notice.escalated_at is None
