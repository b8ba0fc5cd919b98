"""``enforcement.apply``'s body: the actionable scores of one snapshot become actions.

Idempotency lives in the database: one action per score (unique ``score_id``) and one active ban
per account (a partial unique index), so a redelivered or concurrent run inserts nothing twice.
Each action is explained by the exact contributions of the model that decided it, audited, and
put in force on the account; bans in force are counted in the neighbourhood store once they
commit, and the business profiles of accounts banned in force become on-platform evidence.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from infra.db.inserts import insert_ignore_select
from infra.db.models import Account, AuditEvent, EnforcementAction, Score
from tasks.enforcement.policy import Candidate, Mode, PlannedAction, account_status_after, plan
from tasks.evidence import on_platform
from tasks.messages import ApplyEnforcement, DeliverActions, FollowUp, LinkEvidence
from tasks.outcome import Outcome
from tasks.scoring.model import ACTIONED, Scorer
from tasks.scoring.neighbourhoods.rules import NeighbourStore
from tasks.scoring.snapshot import feature_rows, records_at

ACTOR = "classifier"
IN_FORCE = ("ban", "restrict")


def apply_actions(
    session: Session,
    request: ApplyEnforcement,
    *,
    mode: Mode,
    policy_version: str,
    scorer_for: Callable[[str], Scorer],
    neighbours: NeighbourStore,
) -> Outcome:
    """``scorer_for`` gives the scorer of a model version, to explain its decisions."""
    planned = plan(_candidates(session, request), mode)
    if not planned:
        return Outcome({"actions": 0})

    scores = {
        s.id: s
        for s in session.scalars(select(Score).where(Score.id.in_([p.score_id for p in planned])))
    }
    _explain(
        session,
        [scores[p.score_id] for p in planned],
        lambda: scorer_for(request.model_version),
    )
    created = _record(session, planned, scores, policy_version)
    in_force = [a for a in created if a.status == "active" and a.action in IN_FORCE]
    _put_in_force(session, in_force)

    outcome = Outcome({"actions": len(created), "in_force": len(in_force), "evidence": 0})
    bans = [a for a in created if a.action == "ban"]
    records = records_at(
        session, request.snapshot_id, {a.id: scores[a.score_id].position for a in bans}
    )
    counted = [records[a.id] for a in bans if a.status == "active" and a.id in records]
    if counted:
        # Counted in Redis only once the bans are committed.
        outcome.after_commit.append(lambda: neighbours.record_bans(counted))
    # Only a ban in force is evidence: a shadow ban was never made, and a notice must not say so.
    evidence_ids = on_platform.record_bans(
        session,
        [
            on_platform.Ban(a.id, a.score, a.model_version, records[a.id])
            for a in bans
            if a.status == "active" and a.id in records
        ],
    )
    outcome.summary["evidence"] = len(evidence_ids)
    key = f"{request.snapshot_id}:{request.model_version}"
    if in_force:
        outcome.follow_ups.append(
            FollowUp(
                DeliverActions(action_ids=[a.id for a in in_force]),
                dedupe_key=f"enforcement.deliver:{key}",
            )
        )
    if evidence_ids:
        outcome.follow_ups.append(
            FollowUp(
                LinkEvidence(evidence_ids=evidence_ids),
                dedupe_key=f"evidence.link:snapshot:{key}",
            )
        )
    return outcome


def _candidates(session: Session, request: ApplyEnforcement) -> list[Candidate]:
    """The snapshot's actionable scores by the acting model that have no action yet."""
    rows = session.execute(
        select(Score.id, Score.account_id, Score.decision, Account.status)
        .join(Account, Account.account_id == Score.account_id)
        .outerjoin(EnforcementAction, EnforcementAction.score_id == Score.id)
        .where(
            Score.snapshot_id == request.snapshot_id,
            Score.model_version == request.model_version,
            Score.shadow.is_(False),
            Score.decision.in_(ACTIONED),
            EnforcementAction.id.is_(None),
        )
        .order_by(Score.id)
    ).all()
    return [Candidate(*row) for row in rows]


def _explain(session: Session, scores: Sequence[Score], scorer: Callable[[], Scorer]) -> None:
    """Exact contributions of the model that decided, from the feature rows it saw; the model
    is loaded only when some score still needs them."""
    todo = [s for s in scores if s.reasons is None and s.features is not None]
    if todo:
        for score, reasons in zip(todo, scorer().reasons(feature_rows(todo)), strict=True):
            score.reasons = reasons
        session.flush()


def _record(
    session: Session,
    planned: Sequence[PlannedAction],
    scores: dict[int, Score],
    policy_version: str,
) -> list[EnforcementAction]:
    """Insert the planned actions (those already recorded are kept) with an audit event each."""
    created: list[EnforcementAction] = insert_ignore_select(
        session,
        EnforcementAction,
        [
            {
                "account_id": p.account_id,
                "score_id": p.score_id,
                "action": p.action,
                "status": p.status,
                "model_version": scores[p.score_id].model_version,
                "score": scores[p.score_id].score,
                "reasons": scores[p.score_id].reasons,
                "policy_version": policy_version,
                "actor": ACTOR,
            }
            for p in planned
        ],
        "score_id",
    )
    session.add_all(
        AuditEvent(
            entity="enforcement_action",
            entity_id=a.id,
            event=f"created:{a.status}",
            actor=ACTOR,
            details={
                "action": a.action,
                "score": a.score,
                "model_version": a.model_version,
                "policy_version": a.policy_version,
            },
        )
        for a in created
    )
    return created


def _put_in_force(session: Session, in_force: Sequence[EnforcementAction]) -> None:
    for action in IN_FORCE:
        ids = [a.account_id for a in in_force if a.action == action]
        if ids:
            # A restriction never overwrites a ban, even one committed by a concurrent run.
            session.execute(
                update(Account)
                .where(Account.account_id.in_(ids), Account.status != "banned")
                .values(status=account_status_after(action))
            )
