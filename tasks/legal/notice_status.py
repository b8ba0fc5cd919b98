"""A notice's status machine: every change checked against the allowed transitions and recorded.

``draft`` (rendered, not yet submitted) → ``pending_review`` (a person must read and approve the
exact text) → ``approved`` (that text, by a named person) → ``sent`` → ``acknowledged`` (the
company answered) or ``escalated`` (it did not, and the activity goes on). ``rejected`` and
``withdrawn`` end a notice that must not be sent. A new revision of an approved text goes back to
``pending_review``: approval is of a text, not of a company.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.db.models import OPEN_NOTICE_STATUSES, LegalNotice, NoticeRevision, OutboxMessage
from infra.users import Actor
from tasks.legal import history
from tasks.messages import WithdrawDrafts

TRANSITIONS: dict[str, frozenset[str]] = {
    "draft": frozenset({"pending_review", "withdrawn"}),
    "pending_review": frozenset({"draft", "approved", "rejected", "withdrawn"}),
    "approved": frozenset({"draft", "sent", "withdrawn"}),
    "sent": frozenset({"acknowledged", "escalated"}),
    "acknowledged": frozenset(),
    "escalated": frozenset(),
    "rejected": frozenset(),
    "withdrawn": frozenset(),
}
OPEN = OPEN_NOTICE_STATUSES


class NoticeStateError(RuntimeError):
    """A change the status machine does not allow, with the reason."""


def move(session: Session, notice: LegalNotice, to: str, note: str, *, actor: Actor) -> None:
    """Move ``notice`` to status ``to``, recorded with who did it and why."""
    if to not in TRANSITIONS[notice.status]:
        raise NoticeStateError(
            f"notice {notice.reference} is {notice.status}: it cannot become {to}"
        )
    notice.status = to
    history.record(session, notice, note, actor=actor)


def digest(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()


def reference(notice_id: int, year: int) -> str:
    """A notice's own reference, unique and stable: ``BG-2026-000123``."""
    return f"BG-{year}-{notice_id:06d}"


def add_revision(
    session: Session, notice: LegalNotice, body: str, cited: list[int], *, first: bool = False
) -> None:
    """Make ``body`` the notice's current text, kept as a new revision."""
    if not first:
        notice.revision += 1
    notice.body = body
    notice.body_sha256 = digest(body)
    notice.cited_evidence = cited
    session.add(
        NoticeRevision(
            notice_id=notice.id,
            revision=notice.revision,
            body=body,
            body_sha256=notice.body_sha256,
            cited_evidence=cited,
        )
    )
    session.flush()


def pending_withdrawal(session: Session, notice: LegalNotice) -> str | None:
    """Why ``notice`` is about to be withdrawn, or None. A merge or split of its company commits
    a ``legal.withdraw_drafts`` message with the notices open then; until that message's body
    has run, the notice is addressed to a company that no longer exists in that shape, and
    nobody may approve or send it."""
    kwargs = session.scalars(
        select(OutboxMessage.kwargs).where(
            OutboxMessage.task_name == WithdrawDrafts.TASK, OutboxMessage.completed_at.is_(None)
        )
    )
    for pending in kwargs:
        if notice.id in pending.get("notice_ids", ()):
            change = "merged into" if pending.get("change") == "merged" else "split, keys to"
            return f"its company was {change} company {pending.get('other_id')}"
    return None
