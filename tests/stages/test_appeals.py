"""Appeals reverse an action and recompute the account's standing, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from infra.db.models import (
    AuditEvent,
    EnforcementAction,
)
from infra.db.session import session_scope
from tasks.enforcement.appeals import AppealError, reverse
from tests.seed import account_status, enforced


def test_reversing_a_ban_restores_the_account_and_is_audited(env: dict[str, str]) -> None:
    (ban,) = enforced("banned", [("ban", "active")])
    with session_scope() as session:
        action = reverse(session, ban, actor="agent-7", reason="family business, verified")
        assert action.status == "reversed"
    assert account_status() == "active"
    with session_scope() as session:
        action = session.get_one(EnforcementAction, ban)
        assert action.status == "reversed"
        assert action.reversed_by == "agent-7"
        assert action.reversal_reason == "family business, verified"
        assert action.reversed_at is not None
        events = session.scalars(select(AuditEvent)).all()
        assert [(e.entity, e.entity_id, e.event, e.actor, e.details) for e in events] == [
            (
                "enforcement_action",
                ban,
                "reversed",
                "agent-7",
                {"reason": "family business, verified", "previous_status": "active"},
            )
        ]


def test_reversing_a_ban_leaves_a_restriction_in_force(env: dict[str, str]) -> None:
    restrict, ban = enforced("banned", [("restrict", "active"), ("ban", "active")])
    with session_scope() as session:
        reverse(session, ban, actor="agent", reason="appeal upheld")
    assert account_status() == "restricted"
    with session_scope() as session:
        reverse(session, restrict, actor="agent", reason="appeal upheld")
    assert account_status() == "active"


def test_reversing_twice_is_refused(env: dict[str, str]) -> None:
    (ban,) = enforced("banned", [("ban", "active")])
    with session_scope() as session:
        reverse(session, ban, actor="agent", reason="appeal upheld")
    with session_scope() as session, pytest.raises(AppealError, match="already reversed"):
        reverse(session, ban, actor="other", reason="again")
    with session_scope() as session:
        assert session.get_one(EnforcementAction, ban).reversed_by == "agent"
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == 1


def test_reversal_needs_a_person_and_a_reason(env: dict[str, str]) -> None:
    (ban,) = enforced("banned", [("ban", "active")])
    for actor, reason in [("", "why"), ("who", " "), ("  ", "")]:
        with session_scope() as session, pytest.raises(AppealError, match="who decided"):
            reverse(session, ban, actor=actor, reason=reason)
    assert account_status() == "banned"
    with session_scope() as session:
        assert session.get_one(EnforcementAction, ban).status == "active"


def test_reversing_an_unknown_action(env: dict[str, str]) -> None:
    with session_scope() as session, pytest.raises(AppealError, match="no enforcement action 42"):
        reverse(session, 42, actor="agent", reason="why")


def test_database_refuses_a_second_active_ban(env: dict[str, str]) -> None:
    with pytest.raises(IntegrityError):
        enforced("banned", [("ban", "active"), ("ban", "active")])
    ids = enforced("banned", [("ban", "reversed"), ("ban", "active")])
    assert len(ids) == 2
