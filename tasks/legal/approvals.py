"""A person's decisions on a notice: approval of its exact text (then it is sent), rejection,
withdrawal, and the company's acknowledgement once it was sent.

Approval pins the text: the revision and the SHA-256 of what was approved are stored with the
approver's name, and ``legal.send`` sends only that text. A caller that shows the text to the
approver passes its hash, so a revision made in between is refused rather than approved unread.

Every decision is made by a named legal reviewer: ``reviewers`` are the names the operator
configured (``BULKGUARD_LEGAL_REVIEWERS``), and any other name is refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Set

from sqlalchemy.orm import Session

from infra.db.models import LegalNotice
from tasks.legal import notice_status
from tasks.messages import FollowUp, SendNotice
from tasks.outcome import Outcome


class ApprovalError(RuntimeError):
    pass


def approve(
    session: Session,
    notice_id: int,
    *,
    actor: str,
    reviewers: Set[str],
    note: str,
    now: dt.datetime,
    read_sha256: str | None = None,
) -> Outcome:
    """Approve the notice's current text at ``now``; its sending follows once this commits."""
    notice = _decidable(session, notice_id, actor, reviewers)
    if notice.status != "pending_review":
        raise ApprovalError(f"notice {notice.reference} is {notice.status}, not pending review")
    withdrawing = notice_status.pending_withdrawal(session, notice)
    if withdrawing is not None:
        raise ApprovalError(f"notice {notice.reference} is being withdrawn: {withdrawing}")
    if read_sha256 is not None and not notice.body_sha256.startswith(read_sha256.lower()):
        raise ApprovalError(
            f"notice {notice.reference} is now revision {notice.revision} "
            f"(SHA-256 {notice.body_sha256[:12]}), not the text you read: read it again"
        )
    notice.approved_by = actor
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


def reject(
    session: Session, notice_id: int, *, actor: str, reviewers: Set[str], reason: str
) -> Outcome:
    return _close(session, notice_id, "rejected", actor=actor, reviewers=reviewers, reason=reason)


def withdraw(
    session: Session, notice_id: int, *, actor: str, reviewers: Set[str], reason: str
) -> Outcome:
    return _close(session, notice_id, "withdrawn", actor=actor, reviewers=reviewers, reason=reason)


def acknowledge(
    session: Session, notice_id: int, *, actor: str, reviewers: Set[str], note: str
) -> Outcome:
    """The company answered a sent notice: the notice is closed without escalation."""
    return _close(session, notice_id, "acknowledged", actor=actor, reviewers=reviewers, reason=note)


def _close(
    session: Session, notice_id: int, to: str, *, actor: str, reviewers: Set[str], reason: str
) -> Outcome:
    notice = _decidable(session, notice_id, actor, reviewers)
    if not reason.strip():
        raise ApprovalError(f"say why the notice is {to}, for the record")
    try:
        notice_status.move(session, notice, to, reason, actor=actor)
    except notice_status.NoticeStateError as exc:
        raise ApprovalError(str(exc)) from exc
    return Outcome({"notice_id": notice.id, "status": notice.status})


def _decidable(session: Session, notice_id: int, actor: str, reviewers: Set[str]) -> LegalNotice:
    if not actor.strip():
        raise ApprovalError("a decision must name the person who makes it")
    if actor not in reviewers:
        configured = "" if reviewers else " (none is configured)"
        raise ApprovalError(
            f"{actor!r} is not a legal reviewer{configured}: decisions on notices are made by "
            "the reviewers named in BULKGUARD_LEGAL_REVIEWERS"
        )
    notice = session.get(LegalNotice, notice_id, with_for_update=True)
    if notice is None:
        raise ApprovalError(f"no legal notice {notice_id}")
    return notice
