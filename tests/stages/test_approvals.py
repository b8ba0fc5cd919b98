"""A person's decision on a drafted notice, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from infra.db.models import (
    Company,
    LegalNotice,
    NoticeEvent,
)
from infra.db.session import session_scope
from tasks.legal.approvals import ApprovalError, decide
from tests.seed import WHEN


def draft_notice() -> int:
    with session_scope() as session:
        company = Company(name="Reach Media s.r.o.", normalized_name="reach media")
        session.add(company)
        session.flush()
        notice = LegalNotice(
            company_id=company.id,
            policy_version="2019-12-07.1",
            basis="on_platform",
            status="awaiting_approval",
            cited_evidence=[1, 2],
            activity_first=WHEN,
            activity_last=WHEN,
            body="NOTICE",
        )
        session.add(notice)
        session.flush()
        return notice.id


def test_approval_records_the_person(env: dict[str, str]) -> None:
    notice_id = draft_notice()
    with session_scope() as session:
        decide(session, notice_id, approve=True, actor="counsel@example.sk", note="checked")
    with session_scope() as session:
        notice = session.get_one(LegalNotice, notice_id)
        assert notice.status == "approved"
        assert notice.approved_by == "counsel@example.sk"
        assert notice.approved_at is not None
        assert notice.approved_at.tzinfo is not None
        events = session.scalars(
            select(NoticeEvent).where(NoticeEvent.notice_id == notice_id)
        ).all()
        assert [(e.status, e.actor, e.note) for e in events] == [
            ("approved", "counsel@example.sk", "checked")
        ]


def test_rejection_is_recorded_without_approver(env: dict[str, str]) -> None:
    notice_id = draft_notice()
    with session_scope() as session:
        decide(session, notice_id, approve=False, actor="counsel", note="weak evidence")
    with session_scope() as session:
        notice = session.get_one(LegalNotice, notice_id)
        assert notice.status == "rejected"
        assert notice.approved_by is None
        assert notice.approved_at is None


def test_approval_needs_a_person(env: dict[str, str]) -> None:
    notice_id = draft_notice()
    for actor in ("", "   "):
        with session_scope() as session, pytest.raises(ApprovalError, match="name the person"):
            decide(session, notice_id, approve=True, actor=actor, note="")
    with session_scope() as session:
        assert session.get_one(LegalNotice, notice_id).status == "awaiting_approval"


def test_a_notice_is_decided_once(env: dict[str, str]) -> None:
    notice_id = draft_notice()
    with session_scope() as session:
        decide(session, notice_id, approve=True, actor="first", note="")
    for approve in (True, False):
        with session_scope() as session, pytest.raises(ApprovalError, match="is approved"):
            decide(session, notice_id, approve=approve, actor="second", note="")
    with session_scope() as session:
        notice = session.get_one(LegalNotice, notice_id)
        assert (notice.status, notice.approved_by) == ("approved", "first")
        assert session.scalar(select(func.count()).select_from(NoticeEvent)) == 1


def test_unknown_notice(env: dict[str, str]) -> None:
    with session_scope() as session, pytest.raises(ApprovalError, match="no legal notice 999"):
        decide(session, 999, approve=True, actor="counsel", note="")
