"""A notice's status history: every change, with who made it and why."""

from __future__ import annotations

from sqlalchemy.orm import Session

from infra.db.models import LegalNotice, NoticeEvent

SYSTEM = "bulkguard"


def record(session: Session, notice: LegalNotice, note: str, *, actor: str = SYSTEM) -> None:
    """Append the notice's current status to its history."""
    session.add(NoticeEvent(notice_id=notice.id, status=notice.status, actor=actor, note=note))
