"""Appeals that wait for a person: an account holder's appeal against a ban or restriction,
filed on their behalf by the platform's appeal service, waits here until a reviewer decides it
(``tasks.enforcement.appeals``, which closes it).

One appeal waits per action (a partial unique index): filed twice, by a redelivery or by an
appellant who asks again, it waits once, with the statement first filed. An action whose
appeal was decided takes no new one: one decision per action, and the filing is answered with
it. An action that cannot be appealed is refused with the reason.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.db.inserts import insert_new
from infra.db.models import Account, Appeal, AppealRequest, EnforcementAction
from infra.users import Actor, NotAllowedError, authorize
from tasks.enforcement.appeals import (
    AppealError,
    AppealOutcome,
    already_decided,
    check_appealable,
    decide_appeal,
)
from tasks.enforcement.enforce import audit
from tasks.neighbourhoods.rules import NeighbourStore
from tasks.outcome import Outcome


def file_appeal(
    session: Session, action_id: int, *, statement: str, actor: Actor, now: dt.datetime
) -> Outcome:
    """Record the appeal against ``action_id`` that ``actor`` (the appeal service) filed with
    the account holder's ``statement``, to wait for a reviewer."""
    try:
        authorize(session, actor, "reviewer")
    except NotAllowedError as exc:
        raise AppealError(f"{exc}: appeals are filed by the platform's appeal service") from exc
    # Locked as a decision locks it: a filing and a decision on one action take turns.
    action = session.get(EnforcementAction, action_id, with_for_update=True)
    if action is None:
        raise AppealError(f"no enforcement action {action_id}")
    decided = session.scalar(select(Appeal).where(Appeal.action_id == action_id))
    if decided is not None:
        return Outcome(_summary(session, action_id, filed=False, decision=decided))
    check_appealable(action)
    filed = insert_new(
        session,
        AppealRequest,
        [
            {
                "action_id": action_id,
                "statement": statement,
                "filed_by": actor.name,
                "filed_by_id": actor.user_id,
                "filed_at": now,
            }
        ],
    )
    if filed:
        audit(session, action_id, "appeal_filed", actor=actor, details={"request": filed[0].id})
    return Outcome(_summary(session, action_id, filed=bool(filed), decision=None))


def decide_waiting(
    session: Session,
    request_id: int,
    *,
    outcome: AppealOutcome,
    actor: Actor,
    reason: str,
    neighbours: NeighbourStore,
    now: dt.datetime,
) -> Outcome:
    """A reviewer's decision on the waiting appeal ``request_id``. One that was decided
    meanwhile, by anyone, any way, is refused with who decided it: the reviewer read a case
    that no longer waits."""
    request = session.get(AppealRequest, request_id)
    if request is None:
        raise AppealError(f"no appeal {request_id}")
    # The action's lock first: a decision in flight elsewhere (the CLI, a signed task, another
    # reviewer) has committed by then, and is found here.
    session.get(EnforcementAction, request.action_id, with_for_update=True)
    earlier = session.scalar(select(Appeal).where(Appeal.action_id == request.action_id))
    if earlier is not None:
        raise AppealError(already_decided(earlier))
    decided = decide_appeal(
        session,
        request.action_id,
        outcome=outcome,
        actor=actor,
        reason=reason,
        neighbours=neighbours,
        now=now,
    )
    if decided.summary["already_decided"]:
        # Decided between the read above and the insert (SQLite takes no row lock).
        first = session.scalars(select(Appeal).where(Appeal.action_id == request.action_id))
        raise AppealError(already_decided(first.one()))
    return decided


@dataclass(frozen=True)
class Waiting:
    """An appeal and what it is against: the action and the account."""

    request: AppealRequest
    action: EnforcementAction
    account: Account


def waiting(session: Session, *, limit: int, offset: int = 0) -> list[Waiting]:
    """The appeals no one has decided, oldest first (at most ``limit``, after ``offset``)."""
    rows = session.execute(
        select(AppealRequest, EnforcementAction, Account)
        .join(EnforcementAction, EnforcementAction.id == AppealRequest.action_id)
        .join(Account, Account.account_id == EnforcementAction.account_id)
        .where(AppealRequest.appeal_id.is_(None))
        .order_by(AppealRequest.filed_at, AppealRequest.id)
        .offset(offset)
        .limit(limit)
    )
    return [Waiting(request, action, account) for request, action, account in rows]


@dataclass(frozen=True)
class Case:
    """What a reviewer reads to decide an appeal: the action appealed against, the account's
    standing and its other actions, and the decision if one was taken."""

    request: AppealRequest
    action: EnforcementAction
    account: Account
    history: list[EnforcementAction]
    decision: Appeal | None


def case_of(session: Session, request_id: int) -> Case | None:
    request = session.get(AppealRequest, request_id)
    if request is None:
        return None
    action = session.get_one(EnforcementAction, request.action_id)
    history = session.scalars(
        select(EnforcementAction)
        .where(EnforcementAction.account_id == action.account_id, EnforcementAction.id != action.id)
        .order_by(EnforcementAction.created_at, EnforcementAction.id)
    )
    decision = session.get(Appeal, request.appeal_id) if request.appeal_id is not None else None
    return Case(
        request=request,
        action=action,
        account=session.get_one(Account, action.account_id),
        history=list(history),
        decision=decision,
    )


def _summary(
    session: Session, action_id: int, *, filed: bool, decision: Appeal | None
) -> dict[str, Any]:
    request = session.scalar(
        select(AppealRequest)
        .where(AppealRequest.action_id == action_id)
        .order_by(AppealRequest.id.desc())
        .limit(1)
    )
    return {
        "action_id": action_id,
        "request_id": request.id if request else None,
        "filed": filed,
        "already_decided": decision is not None,
        "outcome": decision.outcome if decision else None,
    }
