"""The legal chain through real workers and a real SMTP server on loopback (aiosmtpd).

The 7 December 2019 rule is decided and recorded (a company with claims only before it is not
eligible, with its reason; the same company after later evidence is), a date near the cut-off
is flagged, nothing unapproved is sent even when asked by task name, an approved notice arrives
exactly once under redelivery and a relay that defers, and an unheeded notice is escalated.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from email import message_from_bytes
from typing import Any

from click.testing import CliRunner
from sqlalchemy import select

from infra.db.models import DeadLetter, LegalEvaluation, LegalNotice, utcnow
from infra.db.session import session_scope
from infra.users import Actor
from tasks.messages import Escalate, IngestEvidence, SendNotice
from tests.integration.smtp_relay import Relay
from tests.integration.waiting import count
from tests.people import cli_env, person
from workers.cli.main import main


def claim(when: str, url: str, contact: str) -> dict[str, Any]:
    return {
        "kind": "public_claim",
        "observed_at": when,
        "url": url,
        "publisher": "Acme Reach s.r.o.",
        "text": f"We send bulk WhatsApp messages to 100,000 customers a day. Write to {contact}.",
    }


def evaluations() -> list[LegalEvaluation]:
    with session_scope() as session:
        return list(session.scalars(select(LegalEvaluation).order_by(LegalEvaluation.id)))


def notice_row(**where: Any) -> LegalNotice | None:
    with session_scope() as session:
        query = select(LegalNotice).filter_by(**where).order_by(LegalNotice.id)
        rows = session.scalars(query).all()
        for row in rows:
            session.expunge(row)
        return rows[-1] if rows else None


def sends_done(workers: Any) -> int:
    return sum(
        1
        for w in workers.processes
        for line in w.log_path.read_text(errors="replace").splitlines()
        if "Task legal.send[" in line and ("succeeded" in line or "raised" in line)
    )


def forge_approval(notice_id: int, by: Actor | None) -> None:
    """An approval of the current text written straight into the database, as a script or a
    buggy tool could, without the approval body and its role check."""
    with session_scope() as session:
        row = session.get_one(LegalNotice, notice_id)
        row.status = "approved"
        row.approved_by = by.name if by else "someone-via-a-queue"
        row.approved_by_id = by.user_id if by else None
        row.approved_at = utcnow()
        row.approved_revision, row.approved_sha256 = row.revision, row.body_sha256


def test_the_rule_is_recorded_and_an_approved_notice_is_mailed_once(
    start: Callable[..., Any], relay: Callable[[int], Relay]
) -> None:
    smtp = relay(0)
    workers = start({"evidence": 1, "legal": 1}, extra_env=smtp.env)
    send = workers.app.send_task
    site, contact = "https://www.acmereach.sk/offer", "legal@acmereach.sk"

    # Claims only before the cut-off: not eligible, and the reason is on record.
    send(
        IngestEvidence.TASK,
        kwargs={"documents": [claim("2019-06-01T10:00:00+00:00", site, contact)]},
    )
    workers.wait_for(lambda: count(LegalEvaluation) == 1, what="first evaluation")
    (first,) = evaluations()
    assert (first.eligible, count(LegalNotice)) == (False, 0)
    assert "before 7 December 2019" in first.reason

    # A claim dated 00:30 on 7 December in Bratislava: decided, and flagged for counsel.
    borderline = claim("2019-12-07T00:30:00+01:00", "https://other-blast.sk/", "ops@other-blast.sk")
    send(IngestEvidence.TASK, kwargs={"documents": [borderline]})
    workers.wait_for(lambda: count(LegalEvaluation) == 2, what="borderline evaluation")
    assert evaluations()[-1].borderline != []

    # The same company, still advertising after the cut-off: eligible, a notice for review.
    later = claim("2020-02-01T10:00:00+00:00", "https://www.acmereach.sk/2020", contact)
    send(IngestEvidence.TASK, kwargs={"documents": [later]})
    workers.wait_for(lambda: notice_row() is not None, what="notice drafted")
    notice = notice_row()
    assert notice is not None
    assert notice.status == "pending_review"

    # Asked by task name, an unapproved notice is refused and kept as a dead letter.
    send(SendNotice.TASK, kwargs={"notice_id": notice.id})
    workers.wait_for(
        lambda: count(DeadLetter, DeadLetter.task_name == SendNotice.TASK) == 1,
        what="unapproved send refused",
    )
    assert smtp.inbox.messages == []

    # Approved by someone who is not counsel: the CLI refuses a reviewer, and an approval
    # written behind the approval body (by a reviewer, or by no user at all) is refused by the
    # legal worker, kept as a dead letter, and no e-mail leaves.
    approve = ["legal", "approve", str(notice.id), "--sha256", notice.body_sha256[:16], "--as"]
    by_reviewer = CliRunner().invoke(
        main, [*approve, "agent-7"], env=cli_env("agent-7", "reviewer")
    )
    assert by_reviewer.exit_code == 1
    assert "does not hold the counsel role" in by_reviewer.output
    with session_scope() as session:
        reviewer = person(session, "agent-7", "reviewer")
    for forged_by in (reviewer, None):
        forge_approval(notice.id, forged_by)
        refused = count(DeadLetter, DeadLetter.task_name == SendNotice.TASK)
        send(SendNotice.TASK, kwargs={"notice_id": notice.id})
        workers.wait_for(
            lambda before=refused: (
                count(DeadLetter, DeadLetter.task_name == SendNotice.TASK) == before + 1
            ),
            what="forged approval refused",
        )
    assert smtp.inbox.messages == []
    with session_scope() as session:
        reasons = session.scalars(
            select(DeadLetter.reason).where(DeadLetter.task_name == SendNotice.TASK)
        ).all()
        assert sum("not made by a user holding counsel" in r for r in reasons) == 2
        row = session.get_one(LegalNotice, notice.id)
        row.status, row.approved_by, row.approved_by_id = "pending_review", None, None

    # A wrong hash is refused, and the answer does not give the right one away.
    as_counsel = cli_env("counsel@example.org", "counsel")
    wrong = ["legal", "approve", str(notice.id), "--sha256", "deadbeef0000"]
    misread = CliRunner().invoke(main, [*wrong, "--as", "counsel@example.org"], env=as_counsel)
    assert misread.exit_code == 1
    assert "not the revision on record" in misread.output
    assert notice.body_sha256[:8] not in misread.output

    approved = CliRunner().invoke(main, [*approve, "counsel@example.org"], env=as_counsel)
    assert approved.exit_code == 0, approved.output
    workers.wait_for(lambda: len(smtp.inbox.messages) == 1, what="notice e-mailed")
    workers.wait_for(
        lambda: count(LegalNotice, LegalNotice.status == "sent") == 1, what="notice sent"
    )
    # A redelivered send, by name: nothing more arrives.
    done = sends_done(workers)
    send(SendNotice.TASK, kwargs={"notice_id": notice.id})
    workers.wait_for(lambda: sends_done(workers) > done, what="second send handled")
    assert len(smtp.inbox.messages) == 1
    mail = message_from_bytes(smtp.inbox.messages[0])
    assert mail["Message-ID"] == f"<{notice.reference}.r1@bulkguard.invalid>"
    assert mail["To"] == contact

    # Unanswered past its deadline while the activity goes on: escalated, next step drafted.
    with session_scope() as session:
        row = session.get_one(LegalNotice, notice.id)
        assert row.sent_at is not None
        row.sent_at -= dt.timedelta(days=30)
        row.respond_by = row.sent_at + dt.timedelta(days=14)
        after = row.sent_at + dt.timedelta(days=1)
    still = claim(after.isoformat(), "https://www.acmereach.sk/still", contact)
    send(IngestEvidence.TASK, kwargs={"documents": [still]})
    workers.wait_for(lambda: count(LegalEvaluation) >= 4, what="evaluation of later evidence")
    send(Escalate.TASK, kwargs={})
    workers.wait_for(lambda: notice_row(kind="escalation") is not None, what="escalation")
    step = notice_row(kind="escalation")
    assert step is not None
    assert (step.previous_id, step.status) == (notice.id, "pending_review")
    assert count(LegalNotice, LegalNotice.status == "escalated") == 1
    listed = CliRunner().invoke(main, ["legal", "list", "--status", "escalated"])
    assert notice.reference in listed.output


def test_a_relay_that_defers_gets_the_notice_once_it_recovers(
    start: Callable[..., Any], relay: Callable[[int], Relay]
) -> None:
    smtp = relay(2)  # two "451 try again later" before accepting
    workers = start({"evidence": 1, "legal": 1}, extra_env=smtp.env)
    doc = claim("2020-02-01T10:00:00+00:00", "https://www.acmereach.sk/", "legal@acmereach.sk")
    workers.app.send_task(IngestEvidence.TASK, kwargs={"documents": [doc]})
    workers.wait_for(lambda: notice_row() is not None, what="notice drafted")
    notice = notice_row()
    assert notice is not None
    result = CliRunner().invoke(
        main,
        [
            "legal", "approve", str(notice.id), "--sha256", notice.body_sha256,
            "--as", "counsel@example.org",
        ],
        env=cli_env("counsel@example.org", "counsel"),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    workers.wait_for(
        lambda: count(LegalNotice, LegalNotice.status == "sent") == 1,
        timeout=60,
        what="sent after the relay recovered",
    )
    assert smtp.inbox.deferred == 2
    assert len(smtp.inbox.messages) == 1


def test_bans_cited_only_while_they_stand_and_a_revision_needs_its_own_approval(
    start: Callable[..., Any], relay: Callable[[int], Relay], tmp_path: Any
) -> None:
    from tasks.legal.approvals import approve
    from tasks.messages import LinkEvidence
    from tests.seed import banned_profile

    smtp = relay(0)
    workers = start({"evidence": 1, "legal": 1}, extra_env=smtp.env)
    profile = {"name": "Promo Blast", "email": "sales@promoblast.sk"}
    with session_scope() as session:
        # A ban from 2018 in force, and one recorded in shadow (left by an older version).
        action_2018, ids = banned_profile(
            session,
            "b-2018",
            "+421905000222",
            profile,
            observed_at=dt.datetime(2018, 5, 1, tzinfo=dt.UTC),
        )
        _, shadow = banned_profile(session, "b-shadow", "+421905000111", profile, status="shadow")
    workers.app.send_task(LinkEvidence.TASK, kwargs={"evidence_ids": ids + shadow})
    workers.wait_for(lambda: notice_row() is not None, what="notice on a 2018 ban")
    notice = notice_row()
    assert notice is not None
    assert notice.basis == "on_platform"
    assert notice.cited_evidence == ids  # the shadow ban is never cited
    assert "+421905000111" not in notice.body

    # Approved (without sending yet), then new evidence: revision 2, which nobody approved.
    with session_scope() as session:
        approve(
            session,
            notice.id,
            actor=person(session, "counsel@example.org", "counsel"),
            note="",
            now=utcnow(),
        )
    doc = claim("2020-02-01T10:00:00+00:00", "https://promoblast.sk/", "sales@promoblast.sk")
    workers.app.send_task(IngestEvidence.TASK, kwargs={"documents": [doc]})
    workers.wait_for(lambda: (notice_row() or notice).revision == 2, what="revision 2")
    workers.app.send_task(SendNotice.TASK, kwargs={"notice_id": notice.id})
    workers.wait_for(
        lambda: count(DeadLetter, DeadLetter.task_name == SendNotice.TASK) == 1,
        what="revision 2 refused",
    )
    assert smtp.inbox.messages == []

    # The ban is overturned on appeal: the company is evaluated again, the ban no longer cited.
    appealed = CliRunner().invoke(
        main,
        [
            "appeal",
            str(action_2018),
            "--outcome",
            "overturn",
            "--reason",
            "appeal upheld",
            "--as",
            "agent-7",
        ],
        env=cli_env("agent-7", "reviewer"),
    )
    assert appealed.exit_code == 0, appealed.output
    workers.wait_for(lambda: (notice_row() or notice).revision == 3, what="revision 3")
    revised = notice_row()
    assert revised is not None
    assert ids[0] not in revised.cited_evidence
    assert revised.basis == "off_platform_after_cutoff"
