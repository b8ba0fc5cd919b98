"""The audit trail as one list: the audit events of every entity (enforcement actions, companies,
users, deliveries, models, the breaker) and the status history of legal notices, with the names
of the users behind them, filtered and newest first.

Details and notes are masked as logs are (``infra.redaction``): the trail is read to learn who did
what, and it is exported, so the phone numbers and addresses some details quote stay out.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Select, String, Text, and_, cast, literal_column, or_, select, union_all
from sqlalchemy.orm import Session

from infra.db.models import (
    AuditEvent,
    Delivery,
    EnforcementAction,
    LegalNotice,
    NoticeEvent,
    User,
)
from infra.db.session import session_scope
from infra.redaction import redact

# One query of the CSV export: big enough to be quick, small enough to hold no long transaction.
CHUNK = 500


@dataclass(frozen=True)
class TrailFilter:
    """What to look for; every field given must hold (an empty one is no condition)."""

    user: str = ""  # the user's name, as it is or as it was recorded
    account: str = ""  # the account whose enforcement actions to show
    company: int | None = None
    notice: str = ""  # a notice's id or reference, with its deliveries
    since: dt.date | None = None  # from this day, 00:00 UTC
    until: dt.date | None = None  # to this day, 24:00 UTC

    @classmethod
    def parse(
        cls, *, user: str, account: str, company: str, notice: str, since: str, until: str
    ) -> TrailFilter:
        """The filter of a search form's fields, or ValueError saying which is wrong."""
        company = company.strip().lstrip("#")
        if company and not company.isdigit():
            raise ValueError("a company is its number")
        try:
            first = dt.date.fromisoformat(since) if since else None
            last = dt.date.fromisoformat(until) if until else None
        except ValueError:
            raise ValueError("dates are written YYYY-MM-DD") from None
        return cls(
            user=user.strip().lower(),
            account=account.strip(),
            company=int(company) if company else None,
            notice=notice.strip().lstrip("#"),
            since=first,
            until=last,
        )

    def query(self) -> dict[str, str]:
        """The filter as a search form's fields, for links that keep it."""
        return {k: "" if v is None else str(v) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class Entry:
    source: str  # audit | notice
    id: int
    at: dt.datetime
    entity: str
    entity_id: int
    event: str
    actor: str
    user_name: str | None
    display_name: str | None
    channel: str | None
    details: str


@dataclass(frozen=True)
class After:
    """Where the previous chunk of the export ended, in the trail's order."""

    at: dt.datetime
    source: str
    id: int


def trail(f: TrailFilter, *, after: After | None = None) -> Select[Any]:
    """The trail matching ``f``, newest first (ties: audit events before notice events, newest
    id first), from after ``after`` when given."""
    audit = (
        select(
            literal_column("'audit'", String).label("source"),
            AuditEvent.id,
            AuditEvent.at,
            AuditEvent.entity,
            AuditEvent.entity_id,
            AuditEvent.event,
            AuditEvent.actor,
            User.name.label("user_name"),
            User.display_name,
            AuditEvent.channel,
            cast(AuditEvent.details, Text).label("details"),
        )
        .select_from(AuditEvent)
        .outerjoin(User, User.id == AuditEvent.user_id)
    )
    notices = (
        select(
            literal_column("'notice'", String),
            NoticeEvent.id,
            NoticeEvent.at,
            literal_column("'legal_notice'", String),
            NoticeEvent.notice_id,
            NoticeEvent.status,
            NoticeEvent.actor,
            User.name,
            User.display_name,
            NoticeEvent.channel,
            NoticeEvent.note,
        )
        .select_from(NoticeEvent)
        .outerjoin(User, User.id == NoticeEvent.user_id)
    )
    if f.user:
        audit = audit.where(or_(User.name == f.user, AuditEvent.actor == f.user))
        notices = notices.where(or_(User.name == f.user, NoticeEvent.actor == f.user))
    if f.since is not None:
        start = _midnight(f.since)
        audit = audit.where(AuditEvent.at >= start)
        notices = notices.where(NoticeEvent.at >= start)
    if f.until is not None:
        end = _midnight(f.until + dt.timedelta(days=1))
        audit = audit.where(AuditEvent.at < end)
        notices = notices.where(NoticeEvent.at < end)
    if f.company is not None:
        audit = audit.where(AuditEvent.entity == "company", AuditEvent.entity_id == f.company)
        notices = notices.where(
            NoticeEvent.notice_id.in_(
                select(LegalNotice.id).where(LegalNotice.company_id == f.company)
            )
        )
    if f.notice:
        matching = select(LegalNotice.id).where(
            or_(
                LegalNotice.reference == f.notice.upper(),
                LegalNotice.id == (int(f.notice) if f.notice.isdigit() else -1),
            )
        )
        deliveries = select(Delivery.id).where(
            Delivery.kind == "legal_notice", Delivery.ref_id.in_(matching)
        )
        audit = audit.where(AuditEvent.entity == "delivery", AuditEvent.entity_id.in_(deliveries))
        notices = notices.where(NoticeEvent.notice_id.in_(matching))
    branches = [audit]
    if f.account:
        actions = select(EnforcementAction.id).where(EnforcementAction.account_id == f.account)
        branches = [
            audit.where(
                AuditEvent.entity == "enforcement_action", AuditEvent.entity_id.in_(actions)
            )
        ]
    else:
        # A notice's history concerns a company, never one account.
        branches.append(notices)
    rows = union_all(*branches).subquery()
    query = select(rows).order_by(rows.c.at.desc(), rows.c.source, rows.c.id.desc())
    if after is not None:
        query = query.where(
            or_(
                rows.c.at < after.at,
                and_(
                    rows.c.at == after.at,
                    or_(
                        rows.c.source > after.source,
                        and_(rows.c.source == after.source, rows.c.id < after.id),
                    ),
                ),
            )
        )
    return query


def entries(session: Session, query: Select[Any]) -> list[Entry]:
    return [
        Entry(
            source=r.source,
            id=r.id,
            at=r.at,
            entity=r.entity,
            entity_id=r.entity_id,
            event=r.event,
            actor=r.actor,
            user_name=r.user_name,
            display_name=r.display_name,
            channel=r.channel,
            details=_details(r.source, r.details),
        )
        for r in session.execute(query)
    ]


def everything(f: TrailFilter) -> Iterator[Entry]:
    """The whole trail matching ``f``, a chunk per transaction, for an export of any length."""
    after: After | None = None
    while True:
        with session_scope() as session:
            chunk = entries(session, trail(f, after=after).limit(CHUNK))
        yield from chunk
        if len(chunk) < CHUNK:
            return
        last = chunk[-1]
        after = After(last.at, last.source, last.id)


def _details(source: str, raw: str | None) -> str:
    if not raw:
        return ""
    if source == "notice":
        return redact(raw)
    parsed = json.loads(raw)
    if not isinstance(parsed, dict):
        return redact(raw)
    return redact(", ".join(f"{k}={_plain(v)}" for k, v in parsed.items()))


def _plain(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
