"""Appeals: a person upholds or overturns an enforcement action, with a reason.

An overturn undoes everything the action caused: the action is reversed and the account's
standing recomputed from what remains in force; the platform is told to lift it; a ban leaves
the ban rates of its number's block, network and device; it stops being evidence, so the
companies it was cited against are evaluated again (their open notices redrafted or
withdrawn); and the account is labelled not abusive. An uphold is recorded, audited and
labelled. One decision per action: an appeal sent twice decides once. An appeal that was
waiting for a person (``tasks.enforcement.appeal_requests``) is closed by the decision, in the
same transaction, whichever way the decision came.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from infra.db.inserts import insert_new
from infra.db.models import (
    Account,
    Appeal,
    AppealRequest,
    EnforcementAction,
    Evidence,
    EvidenceLink,
)
from infra.users import Actor, NotAllowedError, authorize
from tasks.enforcement import labels, statements
from tasks.enforcement.enforce import audit, end, scored_records
from tasks.messages import EvaluateCompany, FollowUp
from tasks.neighbourhoods.rules import NeighbourStore
from tasks.outcome import Outcome

AppealOutcome = Literal["uphold", "overturn"]
# What an appeal can be made against: an action the platform carried out.
APPEALABLE = ("active", "expired")


class AppealError(ValueError):
    """An appeal that cannot be decided: the reason says why."""


def decide_appeal(
    session: Session,
    action_id: int,
    *,
    outcome: AppealOutcome,
    actor: Actor,
    reason: str,
    neighbours: NeighbourStore,
    now: dt.datetime,
) -> Outcome:
    """Decide the appeal against ``action_id`` at ``now``: uphold, or overturn (lifted)."""
    if not reason.strip():
        raise AppealError("an appeal decision must say why")
    try:
        authorize(session, actor, "reviewer")
    except NotAllowedError as exc:
        raise AppealError(f"{exc}: appeals are decided by reviewers") from exc
    action = session.get(EnforcementAction, action_id, with_for_update=True)
    if action is None:
        raise AppealError(f"no enforcement action {action_id}")
    decided = session.scalar(select(Appeal).where(Appeal.action_id == action_id))
    if decided is not None:
        return _decided_before(session, action, decided, outcome)
    check_appealable(action)
    recorded = insert_new(
        session,
        Appeal,
        [
            {
                "action_id": action.id,
                "outcome": outcome,
                "decided_by": actor.name,
                "decided_by_id": actor.user_id,
                "reason": reason,
            }
        ],
    )
    if not recorded:
        # Another decision on this appeal committed first (SQLite takes no row lock above).
        decided = session.scalars(select(Appeal).where(Appeal.action_id == action_id)).one()
        return _decided_before(session, action, decided, outcome)
    _close_waiting(session, action.id, recorded[0].id)
    labels.keep(
        session, action, abusive=outcome == "uphold", source="appeal", decided_by=actor.name
    )
    if outcome == "uphold":
        audit(session, action.id, "appeal_upheld", actor=actor, details={"reason": reason})
        return Outcome(_summary(session, action, outcome, companies=[]))
    return _overturn(session, action, actor=actor, reason=reason, neighbours=neighbours, now=now)


def check_appealable(action: EnforcementAction) -> None:
    """Refuse an action that cannot be appealed: only a ban or restriction the platform
    carried out can be (not a review case, a shadow, a scheduled or a lifted action)."""
    if action.action not in ("ban", "restrict") or action.status not in APPEALABLE:
        raise AppealError(
            f"action {action.id} is a {action.status} {action.action}: only a ban or "
            "restriction the platform carried out can be appealed"
        )


def already_decided(decided: Appeal) -> str:
    """What a person is told of an appeal decided before: what, by whom and when."""
    return (
        f"the appeal against action {decided.action_id} was already decided: {decided.outcome} "
        f"by {decided.decided_by} on {decided.decided_at:%Y-%m-%d %H:%M} UTC"
    )


def _decided_before(
    session: Session, action: EnforcementAction, decided: Appeal, outcome: str
) -> Outcome:
    """The answer to an appeal already decided: the same outcome again changes nothing."""
    if decided.outcome != outcome:
        raise AppealError(already_decided(decided))
    # An appeal filed while the first decision was in flight is answered by it too.
    _close_waiting(session, action.id, decided.id)
    return Outcome(_summary(session, action, outcome, companies=[], already=True))


def _close_waiting(session: Session, action_id: int, appeal_id: int) -> None:
    """The appeal waiting for a person against ``action_id``, if any, is decided."""
    session.execute(
        update(AppealRequest)
        .where(AppealRequest.action_id == action_id, AppealRequest.appeal_id.is_(None))
        .values(appeal_id=appeal_id)
    )


def _overturn(
    session: Session,
    action: EnforcementAction,
    *,
    actor: Actor,
    reason: str,
    neighbours: NeighbourStore,
    now: dt.datetime,
) -> Outcome:
    was_in_force = action.status == "active"
    action.reversed_at = now
    action.reversed_by = actor.name
    action.reversal_reason = reason
    # The account holder's statement says it no longer applies, and since when.
    statements.lift_on_appeal(action, now)
    result = end(
        session,
        [action],
        status="reversed",
        actor=actor,
        details={"reason": reason, "appeal": "overturn"},
        key=f"lift:appeal:{action.id}",
    )
    if action.action == "ban" and was_in_force:
        records = list(scored_records(session, [action]).values())
        if records:
            result.after_commit.append(lambda: neighbours.forget_bans(records))
    companies = sorted(
        set(
            session.scalars(
                select(EvidenceLink.company_id)
                .join(Evidence, Evidence.id == EvidenceLink.evidence_id)
                .where(Evidence.action_id == action.id)
            )
        )
    )
    result.follow_ups += [
        FollowUp(
            EvaluateCompany(company_id=c), dedupe_key=f"legal.evaluate:{c}:reversal:{action.id}"
        )
        for c in companies
    ]
    result.summary = _summary(session, action, "overturn", companies=companies)
    return result


def _summary(
    session: Session,
    action: EnforcementAction,
    outcome: str,
    *,
    companies: list[int],
    already: bool = False,
) -> dict[str, object]:
    return {
        "action_id": action.id,
        "account_id": action.account_id,
        "outcome": outcome,
        "account_status": session.get_one(Account, action.account_id).status,
        "companies": companies,
        "already_decided": already,
    }
