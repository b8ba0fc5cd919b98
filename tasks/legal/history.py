"""A notice's status history: every change, with who made it, from where, and why."""

from __future__ import annotations

from sqlalchemy.orm import Session

from infra.db.models import LegalNotice, NoticeEvent
from infra.users import Actor

SYSTEM = Actor.system("bulkguard")


def record(session: Session, notice: LegalNotice, note: str, *, actor: Actor = SYSTEM) -> None:
    """Append the notice's current status to its history."""
    session.add(
        NoticeEvent(
            notice_id=notice.id,
            status=notice.status,
            actor=actor.name,
            user_id=actor.user_id,
            channel=actor.channel,
            note=note,
        )
    )
