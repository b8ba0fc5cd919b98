"""A person's decisions on a notice: approval of its exact text (then it is sent), rejection,
withdrawal, and the company's acknowledgement once it was sent.

Approval pins the text: the revision and the SHA-256 of what was approved are stored with the
approver's name, and ``legal.send`` sends only that text. A caller that shows the text to the
approver passes its hash, so a revision made in between is refused rather than approved unread.

Every decision is made by a user who holds ``counsel``, checked here in the transaction that
records it (``infra.users.authorize``); the approver's user id is stored, and ``legal.send``
checks again that they held the role when they approved.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from infra.db.models import LegalNotice
from infra.users import Actor, NotAllowedError, authorize
from tasks.legal import notice_status
from tasks.messages import FollowUp, SendNotice
from tasks.outcome import Outcome


class ApprovalError(RuntimeError):
    pass


def approve(
    session: Session,
    notice_id: int,
    *,
    actor: Actor,
    note: str,
    now: dt.datetime,
    read_sha256: str | None = None,
) -> Outcome:
    """Approve the notice's current text at ``now``; its sending follows once this commits."""
    notice = _decidable(session, notice_id, actor)
    if notice.status != "pending_review":
        raise ApprovalError(f"notice {notice.reference} is {notice.status}, not pending review")
    withdrawing = notice_status.pending_withdrawal(session, notice)
    if withdrawing is not None:
        raise ApprovalError(f"notice {notice.reference} is being withdrawn: {withdrawing}")
    if read_sha256 is not None and not _is_prefix(read_sha256, notice.body_sha256):
        # Never the current hash: a person who could copy it from here would approve unread.
        raise ApprovalError(
            f"notice {notice.reference}: not the revision on record; read it again with "
            f"`bulkguard legal show {notice.id}` and approve with the SHA-256 shown there"
        )
    notice.approved_by = actor.name
    notice.approved_by_id = actor.user_id
    notice.approved_at = now
    notice.approved_revision = notice.revision
    notice.approved_sha256 = notice.body_sha256
    notice_status.move(
        session,
        notice,
        "approved",
        f"revision {notice.revision} (SHA-256 {notice.body_sha256}) approved. {note}".strip(),
        actor=actor,
    )
    return Outcome(
        {"notice_id": notice.id, "status": notice.status, "revision": notice.revision},
        follow_ups=[
            FollowUp(
                SendNotice(notice_id=notice.id),
                dedupe_key=f"legal.send:{notice.id}:r{notice.revision}",
            )
        ],
    )


def reject(session: Session, notice_id: int, *, actor: Actor, reason: str) -> Outcome:
    return _close(session, notice_id, "rejected", actor=actor, reason=reason)


def withdraw(session: Session, notice_id: int, *, actor: Actor, reason: str) -> Outcome:
    return _close(session, notice_id, "withdrawn", actor=actor, reason=reason)


def acknowledge(session: Session, notice_id: int, *, actor: Actor, note: str) -> Outcome:
    """The company answered a sent notice: the notice is closed without escalation."""
    return _close(session, notice_id, "acknowledged", actor=actor, reason=note)


def _close(session: Session, notice_id: int, to: str, *, actor: Actor, reason: str) -> Outcome:
    notice = _decidable(session, notice_id, actor)
    if not reason.strip():
        raise ApprovalError(f"say why the notice is {to}, for the record")
    try:
        notice_status.move(session, notice, to, reason, actor=actor)
    except notice_status.NoticeStateError as exc:
        raise ApprovalError(str(exc)) from exc
    return Outcome({"notice_id": notice.id, "status": notice.status})


def _decidable(session: Session, notice_id: int, actor: Actor) -> LegalNotice:
    try:
        authorize(session, actor, "counsel")
    except NotAllowedError as exc:
        raise ApprovalError(f"{exc}: decisions on legal notices are counsel's") from exc
    notice = session.get(LegalNotice, notice_id, with_for_update=True)
    if notice is None:
        raise ApprovalError(f"no legal notice {notice_id}")
    return notice


def _is_prefix(read: str, current: str) -> bool:
    """Whether the hash a person read is (a prefix of at least 8 hex digits of) the current
    one: a shorter one would let a guess through."""
    read = read.strip().lower()
    return len(read) >= 8 and current.startswith(read)
