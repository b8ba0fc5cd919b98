"""The legal bodies (evaluate, approvals, send, escalate) on a real database (SQLite and
PostgreSQL), rolled back after each test. State is built by the evidence bodies themselves."""

from __future__ import annotations

import datetime as dt
from email import message_from_bytes
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy.exc
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from infra import users
from infra.db.models import (
    Delivery,
    Evidence,
    LegalEvaluation,
    LegalNotice,
    NoticeEvent,
    NoticeRevision,
    utcnow,
)
from infra.mail import MailDeferredError, MailRefusedError, SandboxMailer
from infra.users import Actor
from tasks.enforcement.appeals import decide_appeal
from tasks.errors import TransientError
from tasks.evidence.ingest import ingest_documents
from tasks.evidence.link import link_evidence
from tasks.legal.approvals import ApprovalError, acknowledge, approve, reject, withdraw
from tasks.legal.escalate import escalate_overdue
from tasks.legal.evaluate import evaluate_company
from tasks.legal.policy import BASIS_OFF_PLATFORM, load_policy
from tasks.legal.send import send_notice
from tasks.messages import EvaluateCompany, IngestEvidence, LinkEvidence, SendNotice
from tasks.neighbourhoods.memory import MemoryNeighbourStore
from tasks.offline.evidence_evaluation import corpus_set
from tasks.outcome import Outcome
from tests.evidence_model import small_model
from tests.people import person
from tests.seed import banned_profile

POLICY = load_policy("2019-12-07.2")
SITE = "https://www.acmereach.sk"
SENDER = "legal-notices@bulkguard.invalid"
# The legal reviewers the operator configured: only they decide on notices.


def counsel(session: Session) -> Actor:
    return person(session, "counsel@example.com", "counsel")


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
        or "We send bulk WhatsApp messages to 100,000 customers. Write to legal@acmereach.sk.",
    }


def add_evidence(session: Session, *documents: dict[str, Any]) -> tuple[int, list[int]]:
    """Ingest and link ``documents`` of one company: its id, and the new evidence ids."""
    (ingested,) = ingest_documents(
        session, IngestEvidence(documents=list(documents)), now=utcnow()
    ).follow_ups
    assert isinstance(ingested.message, LinkEvidence)
    ids = ingested.message.evidence_ids
    (evaluation,) = link_evidence(session, ingested.message).follow_ups
    assert isinstance(evaluation.message, EvaluateCompany)
    return evaluation.message.company_id, ids


def evaluate(session: Session, company_id: int) -> Outcome:
    return evaluate_company(
        session, EvaluateCompany(company_id=company_id), policy=POLICY, now=utcnow()
    )


def notice_of(session: Session, company_id: int) -> LegalNotice:
    return session.scalars(
        select(LegalNotice).where(LegalNotice.company_id == company_id).order_by(LegalNotice.id)
    ).all()[-1]


def drafted(session: Session, *documents: dict[str, Any]) -> LegalNotice:
    company_id, _ = add_evidence(session, *documents)
    evaluate(session, company_id)
    return notice_of(session, company_id)


def send(session: Session, notice: LegalNotice, mailer: Any) -> Outcome:
    return send_notice(
        session, SendNotice(notice_id=notice.id), mailer=mailer, sender=SENDER, now=utcnow()
    )


def statuses(session: Session, notice_id: int) -> list[str]:
    return list(
        session.scalars(
            select(NoticeEvent.status)
            .where(NoticeEvent.notice_id == notice_id)
            .order_by(NoticeEvent.id)
        )
    )


def count(session: Session, model: Any) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


class Refusing:
    def __init__(self, error: Exception) -> None:
        self.error = error

    def send(self, _message: EmailMessage) -> None:
        raise self.error


# ------------------------------------------------------------------------------ evaluate


def test_a_claim_after_the_cutoff_drafts_a_notice_for_review(session: Session) -> None:
    notice = drafted(session, claim("2020-01-15T10:00:00+00:00"))
    assert notice.status == "pending_review"
    assert notice.reference == f"BG-{notice.created_at:%Y}-{notice.id:06d}"
    assert (notice.basis, notice.language, notice.revision) == (BASIS_OFF_PLATFORM, "sk", 1)
    assert statuses(session, notice.id) == ["draft", "pending_review"]
    (revision,) = session.scalars(select(NoticeRevision)).all()
    assert (revision.body, revision.body_sha256) == (notice.body, notice.body_sha256)
    # Slovak company (.sk), Slovak letter, quoting the sentence that makes the claim.
    assert "„We send bulk WhatsApp messages to 100,000 customers.“" in notice.body


def test_every_evaluation_is_recorded_eligible_or_not(session: Session) -> None:
    company_id, (old,) = add_evidence(session, claim("2019-06-01T10:00:00+00:00"))
    first = evaluate(session, company_id)
    assert first.summary["eligible"] is False
    assert count(session, LegalNotice) == 0
    evaluate(session, company_id)  # the same evidence again: the same record
    (record,) = session.scalars(select(LegalEvaluation)).all()
    assert (record.eligible, record.relied_on, record.policy_version) == (
        False,
        [old],
        POLICY.version,
    )
    assert "before 7 December 2019" in record.reason

    # The same company's activity continues after the cut-off: now eligible.
    _, (new,) = add_evidence(session, claim("2020-02-01T10:00:00+00:00", path="/2020"))
    assert evaluate(session, company_id).summary["eligible"] is True
    latest = session.scalars(select(LegalEvaluation).order_by(LegalEvaluation.id)).all()[-1]
    assert (latest.eligible, latest.relied_on) == (True, [old, new])


def test_evidence_near_the_cutoff_is_flagged_for_counsel(session: Session) -> None:
    # 00:30 on 7 December in Bratislava: decided as before the cut-off, and flagged.
    company_id, (early,) = add_evidence(session, claim("2019-12-07T00:30:00+01:00"))
    evaluate(session, company_id)
    record = session.scalars(select(LegalEvaluation)).one()
    assert (record.eligible, record.borderline) == (False, [early])


def test_new_evidence_makes_a_new_revision_for_review(session: Session) -> None:
    notice = drafted(session, claim("2020-01-15T10:00:00+00:00"))
    first_hash = notice.body_sha256
    add_evidence(session, claim("2020-03-01T10:00:00+00:00", path="/prices"))
    evaluate(session, notice.company_id)
    assert notice.revision == 2
    assert notice.status == "pending_review"
    assert notice.body_sha256 != first_hash
    assert statuses(session, notice.id)[-2:] == ["draft", "pending_review"]
    assert count(session, NoticeRevision) == 2


def test_a_revision_after_approval_needs_its_own_approval(session: Session, tmp_path: Path) -> None:
    notice = drafted(session, claim("2020-01-15T10:00:00+00:00"))
    approve(
        session,
        notice.id,
        actor=counsel(session),
        note="checked",
        now=utcnow(),
    )
    read = notice.body_sha256
    company_id = notice.company_id
    add_evidence(session, claim("2020-03-01T10:00:00+00:00", path="/prices"))
    evaluate(session, company_id)
    assert (notice.status, notice.revision, notice.approved_revision) == ("pending_review", 2, 1)
    # Not sendable: the approved text is not the current one.
    with pytest.raises(ApprovalError, match="only approved notices are sent"):
        send(session, notice, SandboxMailer(tmp_path))
    # An approver who read revision 1 cannot approve revision 2 by mistake.
    with pytest.raises(ApprovalError, match="not the revision on record"):
        approve(
            session,
            notice.id,
            actor=counsel(session),
            note="",
            read_sha256=read[:12],
            now=utcnow(),
        )
    approve(
        session,
        notice.id,
        actor=counsel(session),
        note="",
        read_sha256=notice.body_sha256,
        now=utcnow(),
    )
    assert (notice.approved_revision, notice.approved_sha256) == (2, notice.body_sha256)


def test_one_open_notice_per_company_is_a_database_rule(session: Session) -> None:
    notice = drafted(session, claim("2020-01-15T10:00:00+00:00"))
    twin = LegalNotice(
        reference="BG-TWIN",
        company_id=notice.company_id,
        policy_version=POLICY.version,
        basis=notice.basis,
        status="draft",
        activity_first=notice.activity_first,
        activity_last=notice.activity_last,
        body="",
        body_sha256="",
    )

    def insert() -> None:
        with session.begin_nested():
            session.add(twin)

    with pytest.raises(sqlalchemy.exc.IntegrityError):
        insert()


def test_a_closed_notice_is_not_redrafted_on_the_same_evidence(session: Session) -> None:
    notice = drafted(session, claim("2020-01-15T10:00:00+00:00"))
    reject(
        session,
        notice.id,
        actor=counsel(session),
        reason="the page is a parody",
    )
    evaluate(session, notice.company_id)
    assert count(session, LegalNotice) == 1
    # New evidence is a new matter: a new notice with its own reference.
    add_evidence(session, claim("2020-03-01T10:00:00+00:00", path="/prices"))
    evaluate(session, notice.company_id)
    again = notice_of(session, notice.company_id)
    assert again.id != notice.id
    assert again.reference != notice.reference
    assert again.status == "pending_review"


def test_shadow_and_overturned_bans_are_never_cited(session: Session) -> None:
    profile = {"name": "Promo Blast", "email": "sales@promoblast.sk"}
    # Enforcement records no evidence of a shadow ban (tests of apply_actions); a row left by an
    # older version still does not stand.
    _, (shadow,) = banned_profile(session, "s1", "+421905000111", profile, status="shadow")
    action_id, (ban,) = banned_profile(session, "b1", "+421905000222", profile)
    (link,) = link_evidence(session, LinkEvidence(evidence_ids=[shadow, ban])).follow_ups
    assert isinstance(link.message, EvaluateCompany)
    company_id = link.message.company_id
    evaluate(session, company_id)
    notice = notice_of(session, company_id)
    assert notice.cited_evidence == [ban]
    assert "+421905000222" in notice.body

    # The ban is overturned on appeal: the company is evaluated again and the draft withdrawn.
    outcome = decide_appeal(
        session,
        action_id,
        outcome="overturn",
        actor=person(session, "agent-7", "reviewer"),
        reason="appeal upheld",
        neighbours=MemoryNeighbourStore(),
        now=utcnow(),
    )
    assert EvaluateCompany(company_id=company_id) in [f.message for f in outcome.follow_ups]
    result = evaluate(session, company_id)
    assert result.summary["eligible"] is False
    assert notice.status == "withdrawn"


# ------------------------------------------------------------------------------ approvals


def test_an_approval_pins_the_text_and_hands_on_sending(session: Session) -> None:
    notice = drafted(session, claim("2020-01-15T10:00:00+00:00"))
    outcome = approve(
        session,
        notice.id,
        actor=counsel(session),
        note="checked",
        now=utcnow(),
    )
    assert (notice.status, notice.approved_by) == ("approved", "counsel@example.com")
    assert (notice.approved_revision, notice.approved_sha256) == (1, notice.body_sha256)
    (follow_up,) = outcome.follow_ups
    assert follow_up.message == SendNotice(notice_id=notice.id)
    assert follow_up.dedupe_key == f"legal.send:{notice.id}:r1"


def test_a_decision_on_a_notice_is_counsels(session: Session) -> None:
    notice = drafted(session, claim("2020-01-15T10:00:00+00:00"))
    refused = [
        (Actor.system("counsel@example.com"), "not an enabled user"),
        (person(session, "agent-7", "reviewer"), "does not hold the counsel role"),
    ]
    for actor, problem in refused:
        with pytest.raises(ApprovalError, match=problem):
            approve(session, notice.id, actor=actor, note="", now=utcnow())
        with pytest.raises(ApprovalError, match=problem):
            reject(session, notice.id, actor=actor, reason="no")
        with pytest.raises(ApprovalError, match=problem):
            withdraw(session, notice.id, actor=actor, reason="no")
    assert notice.status == "pending_review"
    assert notice.approved_by is None


def test_counsel_who_lost_the_role_or_was_disabled_decides_nothing(session: Session) -> None:
    notice = drafted(session, claim("2020-01-15T10:00:00+00:00"))
    admin = person(session, "root", "admin")
    former = counsel(session)
    user = users.get(session, former.name)
    users.change_roles(session, user, remove=["counsel"], by=admin, now=utcnow())
    with pytest.raises(ApprovalError, match="does not hold the counsel role"):
        approve(session, notice.id, actor=former, note="", now=utcnow())
    users.change_roles(session, user, add=["counsel"], by=admin, now=utcnow())
    users.disable(session, user, by=admin, now=utcnow())
    with pytest.raises(ApprovalError, match="not an enabled user"):
        approve(session, notice.id, actor=former, note="", now=utcnow())


def test_a_wrong_hash_is_refused_without_giving_the_right_one(session: Session) -> None:
    notice = drafted(session, claim("2020-01-15T10:00:00+00:00"))
    for wrong in ("deadbeef0000", notice.body_sha256[:6], ""):
        with pytest.raises(ApprovalError, match="not the revision on record") as refused:
            approve(
                session, notice.id, actor=counsel(session), note="", now=utcnow(), read_sha256=wrong
            )
        assert notice.body_sha256[:6] not in str(refused.value)
    assert notice.status == "pending_review"
    approve(
        session,
        notice.id,
        actor=counsel(session),
        note="",
        now=utcnow(),
        read_sha256=notice.body_sha256[:12].upper(),
    )
    assert notice.status == "approved"


def test_rejection_and_withdrawal_need_a_reason_and_end_the_notice(session: Session) -> None:
    notice = drafted(session, claim("2020-01-15T10:00:00+00:00"))
    with pytest.raises(ApprovalError, match="say why"):
        withdraw(session, notice.id, actor=counsel(session), reason=" ")
    withdraw(
        session,
        notice.id,
        actor=counsel(session),
        reason="company dissolved",
    )
    with pytest.raises(ApprovalError, match="not pending review"):
        approve(
            session,
            notice.id,
            actor=counsel(session),
            note="",
            now=utcnow(),
        )
    with pytest.raises(ApprovalError, match="cannot become rejected"):
        reject(session, notice.id, actor=counsel(session), reason="late")


# ------------------------------------------------------------------------------ send


def test_an_approved_notice_is_emailed_once(session: Session, tmp_path: Path) -> None:
    notice = drafted(session, claim("2020-01-15T10:00:00+00:00"))
    approve(session, notice.id, actor=counsel(session), note="", now=utcnow())
    mailer = SandboxMailer(tmp_path)
    assert send(session, notice, mailer).summary["delivered"] is True
    assert send(session, notice, mailer).summary["delivered"] is False  # redelivered task

    (eml,) = tmp_path.glob("*.eml")
    message = message_from_bytes(eml.read_bytes())
    assert message["Message-ID"] == f"<{notice.reference}.r1@bulkguard.invalid>"
    assert message["To"] == "legal@acmereach.sk"
    assert "".join(message["X-Notice-SHA256"].split()) == notice.body_sha256
    parts = {part.get_content_type() for part in message.walk()}
    assert {"text/plain", "text/html"} <= parts
    assert notice.status == "sent"
    assert notice.sent_at is not None
    assert notice.respond_by == notice.sent_at + dt.timedelta(days=POLICY.response_days)
    assert count(session, Delivery) == 1


@pytest.mark.parametrize("status", ["pending_review", "rejected"])
def test_only_an_approved_notice_is_sent(session: Session, tmp_path: Path, status: str) -> None:
    notice = drafted(session, claim("2020-01-15T10:00:00+00:00"))
    if status == "rejected":
        reject(session, notice.id, actor=counsel(session), reason="no")
    with pytest.raises(ApprovalError, match="only approved notices are sent"):
        send(session, notice, SandboxMailer(tmp_path))
    assert list(tmp_path.iterdir()) == []


def forge_approval(session: Session, notice: LegalNotice, by: Actor | None) -> None:
    """What an approval looks like in the database, written there without the approval body."""
    notice.status = "approved"
    notice.approved_by = by.name if by else "someone-via-a-queue"
    notice.approved_by_id = by.user_id if by else None
    notice.approved_at = utcnow()
    notice.approved_revision = notice.revision
    notice.approved_sha256 = notice.body_sha256
    session.flush()


@pytest.mark.parametrize("approver", ["nobody", "reviewer", "admin"])
def test_an_approval_not_made_by_counsel_is_not_sent(
    session: Session, tmp_path: Path, approver: str
) -> None:
    notice = drafted(session, claim("2020-01-15T10:00:00+00:00"))
    by = None if approver == "nobody" else person(session, f"{approver}-1", approver)  # type: ignore[arg-type]
    forge_approval(session, notice, by)
    with pytest.raises(ApprovalError, match="not made by a user holding counsel"):
        send(session, notice, SandboxMailer(tmp_path))
    assert list(tmp_path.iterdir()) == []
    assert notice.status == "approved"


def test_counsel_at_the_time_of_approval_is_what_counts(session: Session, tmp_path: Path) -> None:
    notice = drafted(session, claim("2020-01-15T10:00:00+00:00"))
    approver = counsel(session)
    approve(session, notice.id, actor=approver, note="", now=utcnow())
    # The role is taken away after approving: the approval stands (it was counsel's).
    users.change_roles(
        session,
        users.get(session, approver.name),
        remove=["counsel"],
        by=person(session, "root", "admin"),
        now=utcnow(),
    )
    assert send(session, notice, SandboxMailer(tmp_path)).summary["delivered"] is True


def test_a_role_granted_after_the_approval_does_not_make_it_counsels(
    session: Session, tmp_path: Path
) -> None:
    notice = drafted(session, claim("2020-01-15T10:00:00+00:00"))
    late = person(session, "late-counsel", "reviewer")
    forge_approval(session, notice, late)
    users.change_roles(
        session,
        users.get(session, late.name),
        add=["counsel"],
        by=person(session, "root", "admin"),
        now=utcnow() + dt.timedelta(seconds=1),
    )
    with pytest.raises(ApprovalError, match="not made by a user holding counsel"):
        send(session, notice, SandboxMailer(tmp_path))


def test_a_text_changed_behind_the_approval_is_not_sent(session: Session, tmp_path: Path) -> None:
    notice = drafted(session, claim("2020-01-15T10:00:00+00:00"))
    approve(session, notice.id, actor=counsel(session), note="", now=utcnow())
    notice.body += "\nP.S. an edit nobody approved"
    with pytest.raises(ApprovalError, match="not the text"):
        send(session, notice, SandboxMailer(tmp_path))


def test_a_relay_that_is_down_defers_and_a_refusal_is_recorded(session: Session) -> None:
    notice = drafted(session, claim("2020-01-15T10:00:00+00:00"))
    approve(session, notice.id, actor=counsel(session), note="", now=utcnow())
    with pytest.raises(TransientError, match="not sent yet"):
        send(session, notice, Refusing(MailDeferredError("421 try later")))
    outcome = send(session, notice, Refusing(MailRefusedError("550 no such user")))
    assert outcome.summary["delivered"] is False
    assert notice.status == "approved"
    note = session.scalars(
        select(NoticeEvent.note).where(NoticeEvent.notice_id == notice.id).order_by(NoticeEvent.id)
    ).all()[-1]
    assert note.startswith("delivery refused, not retried")


def test_a_company_without_an_address_is_not_mailed(session: Session, tmp_path: Path) -> None:
    text = "We send bulk WhatsApp messages to 100,000 customers. Call +421 905 111 222."
    notice = drafted(session, claim("2020-01-15T10:00:00+00:00", text=text))
    approve(session, notice.id, actor=counsel(session), note="", now=utcnow())
    assert send(session, notice, SandboxMailer(tmp_path)).summary["delivered"] is False
    assert notice.status == "approved"


# ------------------------------------------------------------------------------ escalate


def sent(session: Session, tmp_path: Path) -> LegalNotice:
    """A notice sent 30 days ago (so that evidence after it is not in the future)."""
    notice = drafted(session, claim("2020-01-15T10:00:00+00:00"))
    approve(session, notice.id, actor=counsel(session), note="", now=utcnow())
    send(session, notice, SandboxMailer(tmp_path))
    assert notice.sent_at is not None
    notice.sent_at -= dt.timedelta(days=30)
    notice.respond_by = notice.sent_at + dt.timedelta(days=POLICY.response_days)
    return notice


def test_an_unheeded_notice_is_escalated_when_the_activity_continues(
    session: Session, tmp_path: Path
) -> None:
    notice = sent(session, tmp_path)
    assert notice.respond_by is not None
    later = notice.respond_by + dt.timedelta(days=1)
    assert escalate_overdue(session, now=later).summary["escalated"] == 0  # nothing new yet

    after = (notice.sent_at or later) + dt.timedelta(hours=1)
    _, (fresh,) = add_evidence(session, claim(after.isoformat(), path="/still-selling"))
    evaluate(session, notice.company_id)
    assert count(session, LegalNotice) == 1  # new evidence alone drafts no second letter
    outcome = escalate_overdue(session, now=later)
    step = notice_of(session, notice.company_id)
    assert outcome.summary["drafted"] == [step.reference]
    assert (notice.status, notice.escalated_at) == ("escalated", later)
    assert (step.kind, step.previous_id, step.status) == ("escalation", notice.id, "pending_review")
    assert step.cited_evidence == [fresh]
    assert f"Nadväzuje na našu výzvu {notice.reference}." in step.body
    assert escalate_overdue(session, now=later).summary["escalated"] == 0  # once


def test_an_acknowledged_notice_is_not_escalated(session: Session, tmp_path: Path) -> None:
    notice = sent(session, tmp_path)
    acknowledge(
        session,
        notice.id,
        actor=counsel(session),
        note="they took the page down",
    )
    assert notice.respond_by is not None
    outcome = escalate_overdue(session, now=notice.respond_by + dt.timedelta(days=30))
    assert outcome.summary == {"overdue": 0, "escalated": 0, "drafted": []}


def test_a_page_only_the_model_reads_as_a_claim_reaches_a_notice(session: Session) -> None:
    # A pricing page that offers sends by the credit: no rule cue marks it, the evidence model
    # (which never saw this writer) reads a claim. Read by the rules, it links to no company and
    # nothing is evaluated; read by the model, its company is evaluated through the follow-up
    # the task shell publishes after commit, and a notice is drafted citing it.
    page = next(d for d in corpus_set() if d["id"] == "wb-en-002")
    url = "https://joltrelay.com/plans"
    for day, model in ((1, None), (2, small_model())):  # crawled twice, read by each reader
        doc = {"observed_at": f"2024-03-0{day}T10:00:00+00:00", "url": url, "text": page["text"]}
        (ingested,) = ingest_documents(
            session, IngestEvidence(documents=[doc]), now=utcnow(), model=model
        ).follow_ups
        assert isinstance(ingested.message, LinkEvidence)
        linked = link_evidence(session, ingested.message).follow_ups
        if model is None:
            assert linked == []
            continue
        (evaluation,) = linked
        assert isinstance(evaluation.message, EvaluateCompany)
        outcome = evaluate(session, evaluation.message.company_id)
        assert outcome.summary["eligible"] is True
        assert outcome.summary["basis"] == BASIS_OFF_PLATFORM
        notice = notice_of(session, evaluation.message.company_id)
        (cited,) = session.scalars(select(Evidence).where(Evidence.id.in_(notice.cited_evidence)))
        assert cited.indicators["reader"] == model.version
        assert "credit" in cited.excerpt  # the sentences the model weighed, quoted
