"""Appeals that wait for a person, on a real database (SQLite and PostgreSQL): filed once
however often they are sent, refused against what cannot be appealed, closed by the decision
whichever way it came, and refused to a reviewer once decided."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from infra.db.models import Appeal, AppealRequest, AuditEvent, EnforcementAction, utcnow
from infra.db.session import session_scope
from infra.users import Actor, find
from tasks.enforcement.appeal_requests import case_of, decide_waiting, file_appeal, waiting
from tasks.enforcement.appeals import AppealError, decide_appeal
from tasks.neighbourhoods.memory import MemoryNeighbourStore
from tasks.outcome import Outcome
from tests.people import person, service
from tests.seed import account_status, enforced

STATEMENT = "I run a bakery and message my own customers."


def appeal_service(name: str = "appeal-service", role: str = "reviewer") -> Actor:
    service(name, role)  # type: ignore[arg-type]
    with session_scope() as session:
        user = find(session, name)
        assert user is not None
        return Actor(name=user.name, user_id=user.id, channel="task")


def file(
    action_id: int, statement: str = STATEMENT, *, by: Actor, at: dt.datetime | None = None
) -> Outcome:
    with session_scope() as session:
        return file_appeal(session, action_id, statement=statement, actor=by, now=at or utcnow())


def requests() -> list[tuple[int, str, int | None]]:
    with session_scope() as session:
        rows = session.execute(
            select(AppealRequest.action_id, AppealRequest.statement, AppealRequest.appeal_id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def test_an_appeal_filed_twice_waits_once(env: dict[str, str]) -> None:
    (ban,) = enforced("banned", [("ban", "active")])
    by = appeal_service()
    first = file(ban, by=by).summary
    again = file(ban, "Please, I asked already.", by=by).summary
    assert (first["filed"], again["filed"]) == (True, False)
    assert first["request_id"] == again["request_id"] is not None
    assert not first["already_decided"]
    assert requests() == [(ban, STATEMENT, None)]
    with session_scope() as session:
        events = session.execute(
            select(AuditEvent.event, AuditEvent.actor, AuditEvent.channel).where(
                AuditEvent.entity == "enforcement_action"
            )
        ).all()
        assert [tuple(e) for e in events] == [("appeal_filed", "appeal-service", "task")]
        (shown,) = waiting(session, limit=10)
        assert (shown.action.id, shown.account.account_id) == (ban, "acc-1")
    assert account_status() == "banned"  # filing decides nothing


@pytest.mark.parametrize(
    ("action", "status", "problem"),
    [
        ("review", "pending", "a pending review"),
        ("ban", "shadow", "a shadow ban"),
        ("ban", "scheduled", "a scheduled ban"),
        ("ban", "reversed", "a reversed ban"),
    ],
)
def test_what_cannot_be_appealed_is_not_filed(
    env: dict[str, str], action: str, status: str, problem: str
) -> None:
    (action_id,) = enforced("active", [(action, status)])
    by = appeal_service()
    with pytest.raises(AppealError, match=problem):
        file(action_id, by=by)
    with pytest.raises(AppealError, match="no enforcement action 4242"):
        file(4242, by=by)
    assert requests() == []


def test_only_a_service_with_the_reviewer_role_files(env: dict[str, str]) -> None:
    (ban,) = enforced("banned", [("ban", "active")])
    with pytest.raises(AppealError, match="does not hold the reviewer role"):
        file(ban, by=appeal_service("crawler", "counsel"))
    with pytest.raises(AppealError, match="not an enabled user"):
        file(ban, by=Actor.system("someone"))
    assert requests() == []


def test_a_decision_from_anywhere_closes_the_waiting_appeal(env: dict[str, str]) -> None:
    restrict, ban = enforced("banned", [("restrict", "active"), ("ban", "active")])
    by = appeal_service()
    file(ban, by=by)
    with session_scope() as session:
        # The CLI's (and a signed task's) way: by action, not by the request.
        decide_appeal(
            session,
            ban,
            outcome="uphold",
            actor=person(session, "agent-7", "reviewer"),
            reason="bulk sending confirmed",
            neighbours=MemoryNeighbourStore(),
            now=utcnow(),
        )
    with session_scope() as session:
        appeal = session.scalars(select(Appeal)).one()
        assert requests() == [(ban, STATEMENT, appeal.id)]
        assert waiting(session, limit=10) == []
    # Filed again after the decision: nothing new waits, the filing is answered with it.
    again = file(ban, by=by).summary
    assert (again["filed"], again["already_decided"], again["outcome"]) == (False, True, "uphold")
    assert len(requests()) == 1
    # The other action's appeal still waits, and is decided on its own.
    file(restrict, by=by)
    with session_scope() as session:
        (left,) = waiting(session, limit=10)
        assert left.action.id == restrict


def test_a_reviewer_decides_a_waiting_appeal_once(env: dict[str, str]) -> None:
    (ban,) = enforced("banned", [("ban", "active")])
    request_id = file(ban, by=appeal_service()).summary["request_id"]
    with session_scope() as session:
        reviewer = person(session, "agent-7", "reviewer")
        other = person(session, "agent-9", "reviewer")
    with session_scope() as session:
        decided = decide_waiting(
            session,
            request_id,
            outcome="overturn",
            actor=reviewer,
            reason="family business, verified",
            neighbours=MemoryNeighbourStore(),
            now=utcnow(),
        )
        assert decided.summary["account_status"] == "active"
        assert decided.follow_ups  # the lift, as any overturn
    assert account_status() == "active"
    # Another reviewer who read the case before it was decided is told who decided it, even
    # for the same outcome: it is no longer theirs to decide.
    for outcome in ("overturn", "uphold"):
        with (
            session_scope() as session,
            pytest.raises(AppealError, match="already decided: overturn by agent-7 on "),
        ):
            decide_waiting(
                session,
                request_id,
                outcome=outcome,
                actor=other,
                reason="seen too",
                neighbours=MemoryNeighbourStore(),
                now=utcnow(),
            )
    with pytest.raises(AppealError, match="no appeal 999"), session_scope() as session:
        decide_waiting(
            session,
            999,
            outcome="uphold",
            actor=reviewer,
            reason="x",
            neighbours=MemoryNeighbourStore(),
            now=utcnow(),
        )
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Appeal)) == 1
        case = case_of(session, request_id)
        assert case is not None
        assert case.decision is not None
        assert (case.decision.outcome, case.decision.decided_by) == ("overturn", "agent-7")
        assert session.get_one(EnforcementAction, ban).status == "reversed"


def test_waiting_appeals_come_oldest_first(env: dict[str, str]) -> None:
    restrict, ban = enforced("banned", [("restrict", "active"), ("ban", "active")])
    by = appeal_service()
    now = utcnow()
    file(ban, by=by, at=now)
    file(restrict, "The restriction too.", by=by, at=now - dt.timedelta(hours=1))
    with session_scope() as session:
        assert [w.action.id for w in waiting(session, limit=10)] == [restrict, ban]
        assert [w.action.id for w in waiting(session, limit=1)] == [restrict]
        case = case_of(session, waiting(session, limit=1)[0].request.id)
        assert case is not None
        assert [a.id for a in case.history] == [ban]
        assert case.account.status == "banned"
        assert case.decision is None
