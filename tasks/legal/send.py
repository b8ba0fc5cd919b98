"""``legal.send``'s body: the approved text of a notice is e-mailed to the company, once.

The status and the pinned approval are re-read under a row lock: only a notice approved by a
named person, whose current text is exactly the approved revision, is ever sent. The Message-ID
derives from the notice's reference and revision, so the message is the same message however
often a redelivered task tries it. A relay that is down defers (the task retries with backoff);
a refusal is recorded on the notice for a person, and not retried.
"""

from __future__ import annotations

import datetime as dt
import html
from email.message import EmailMessage

from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.db.inserts import insert_ignore
from infra.db.models import CompanyIndicator, Delivery, LegalNotice
from infra.mail import MailDeferredError, Mailer, MailRefusedError
from infra.users import held_at
from tasks.errors import TransientError
from tasks.legal import history, notice_status
from tasks.legal.approvals import ApprovalError
from tasks.legal.policy import load_policy
from tasks.messages import SendNotice
from tasks.outcome import Outcome

SUBJECTS = {
    "en": "Notice {reference}: unauthorised automated and bulk messaging",
    "sk": "Výzva {reference}: neoprávnené automatizované a hromadné posielanie správ",
}


def send_notice(
    session: Session, request: SendNotice, *, mailer: Mailer, sender: str, now: dt.datetime
) -> Outcome:
    """E-mail the notice's approved text, once; ``now`` is when it is sent."""
    notice = session.get(LegalNotice, request.notice_id, with_for_update=True)
    if notice is None:
        raise LookupError(f"legal notice {request.notice_id} does not exist")
    summary: dict[str, object] = {"notice_id": notice.id, "reference": notice.reference}
    if notice.status in ("sent", "acknowledged", "escalated"):
        return Outcome({**summary, "status": notice.status, "delivered": False})
    _check_approved(session, notice)
    withdrawing = notice_status.pending_withdrawal(session, notice)
    if withdrawing is not None:
        # Its withdrawal is committed and queued on this very queue: once it has run, this
        # notice is withdrawn and the retry finds nothing to send.
        raise TransientError(f"notice {notice.reference} not sent: {withdrawing}")
    addresses = recipients(session, notice.company_id)
    if not addresses:
        history.record(
            session,
            notice,
            "not delivered: the company has no e-mail address on record; add one to the "
            "company or deliver the approved text by other means",
        )
        return Outcome({**summary, "status": notice.status, "delivered": False})
    message = build_message(notice, addresses, sender)
    try:
        mailer.send(message)
    except MailDeferredError as exc:
        raise TransientError(f"notice {notice.reference} not sent yet: {exc}") from exc
    except MailRefusedError as exc:
        history.record(session, notice, f"delivery refused, not retried: {exc}")
        return Outcome({**summary, "status": notice.status, "delivered": False})
    notice.sent_at = now
    session.execute(
        insert_ignore(session, Delivery),
        [
            {
                "kind": "legal_notice",
                "ref_id": notice.id,
                "sink": str(mailer),
                "attempts": 1,
                "attempted_at": notice.sent_at,
                "delivered_at": notice.sent_at,
                "status": "delivered",
            }
        ],
    )
    days = load_policy(notice.policy_version).response_days
    notice.respond_by = notice.sent_at + dt.timedelta(days=days)
    notice_status.move(
        session,
        notice,
        "sent",
        f"revision {notice.revision} e-mailed to {len(addresses)} address(es) on record for "
        f"company {notice.company_id} via {mailer} as {message['Message-ID']}",
        actor=history.SYSTEM,
    )
    return Outcome({**summary, "status": "sent", "delivered": True})


def _check_approved(session: Session, notice: LegalNotice) -> None:
    """Nothing leaves without the approval of exactly this text by a user who held ``counsel``
    when approving: checked here, where the e-mail leaves, whatever put the notice in this
    state or sent this task."""
    if notice.status != "approved" or not notice.approved_by:
        raise ApprovalError(
            f"legal notice {notice.reference} is {notice.status}: only approved notices are sent"
        )
    if (
        notice.approved_by_id is None
        or notice.approved_at is None
        or not held_at(session, notice.approved_by_id, "counsel", notice.approved_at)
    ):
        raise ApprovalError(
            f"legal notice {notice.reference} not sent: its approval by {notice.approved_by!r} "
            "was not made by a user holding counsel at the time; have counsel approve it"
        )
    text_hash = notice_status.digest(notice.body)
    if (
        notice.approved_revision != notice.revision
        or notice.approved_sha256 != text_hash
        or notice.body_sha256 != text_hash
    ):
        raise ApprovalError(
            f"legal notice {notice.reference}: revision {notice.revision} is not the text "
            f"{notice.approved_by} approved (revision {notice.approved_revision})"
        )


def recipients(session: Session, company_id: int) -> list[str]:
    """The company's e-mail addresses on record, the notice's recipients."""
    return sorted(
        session.scalars(
            select(CompanyIndicator.value).where(
                CompanyIndicator.company_id == company_id, CompanyIndicator.kind == "email"
            )
        )
    )


def build_message(notice: LegalNotice, recipients: list[str], sender: str) -> EmailMessage:
    """The e-mail of a notice: its text as the body (plain and HTML) and as an attachment."""
    domain = sender.rsplit("@", 1)[-1]
    message = EmailMessage()
    message["Message-ID"] = f"<{notice.reference}.r{notice.revision}@{domain}>"
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    subjects = SUBJECTS.get(notice.language, SUBJECTS["en"])
    message["Subject"] = subjects.format(reference=notice.reference)
    message["X-Notice-Reference"] = notice.reference
    message["X-Notice-SHA256"] = notice.body_sha256
    message.set_content(notice.body)
    message.add_alternative(
        f'<!doctype html><html lang="{notice.language}"><body>'
        f'<pre style="font-family: monospace; white-space: pre-wrap">{html.escape(notice.body)}'
        "</pre></body></html>",
        subtype="html",
    )
    message.add_attachment(
        notice.body.encode(),
        maintype="text",
        subtype="plain",
        filename=f"{notice.reference}.txt",
    )
    return message
