"""``enforcement.apply``'s body: the actionable scores of one snapshot become actions.

Idempotency lives in the database: one action of a kind per score (unique ``score_id, action``)
and one active ban per account (a partial unique index), so a redelivered or concurrent run
inserts nothing twice. The policy in force chooses each action (``tasks.enforcement.policy``);
each is explained by the exact contributions of the model that decided it, audited with the
policy version and rule, and put in force (``tasks.enforcement.enforce``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from infra.db.models import Account, EnforcementAction, Score
from infra.users import Actor
from tasks.accounts.signals import DetectionPoint
from tasks.enforcement import breaker
from tasks.enforcement.breaker import HELD, BreakerLimits, hold_reason
from tasks.enforcement.enforce import (
    IN_FORCE,
    actions_by_account,
    put_in_force,
    record_actions,
    term_end,
)
from tasks.enforcement.policy import Candidate, Mode, PlannedAction, Policy, plan, signals_of
from tasks.enforcement.safeguards import Safeguards
from tasks.messages import ApplyEnforcement
from tasks.neighbourhoods.rules import NeighbourStore
from tasks.outcome import Outcome
from tasks.scoring.model import ACTIONED, Scorer
from tasks.scoring.snapshot import feature_rows, records_at

ACTOR = Actor.system("classifier")
# Restrictions that count as repeats: in force, run out, or decided by a person; not those
# overturned on appeal or only recorded in shadow.
COUNTED_RESTRICTIONS = ("active", "expired")


def apply_actions(
    session: Session,
    request: ApplyEnforcement,
    *,
    mode: Mode,
    policy: Policy,
    scorer_for: Callable[[str], Scorer],
    neighbours: NeighbourStore,
    now: dt.datetime,
    safeguards: Safeguards,
) -> Outcome:
    """``scorer_for`` gives the scorer of a model version, to explain its decisions."""
    planned = plan(policy, _candidates(session, request, policy, now), mode)
    if not planned:
        return Outcome({"actions": 0, "scheduled": 0, "held": 0, "in_force": 0, "evidence": 0})
    planned, held = _through_breaker(session, planned, safeguards.breaker, now)

    scores = {
        s.id: s
        for s in session.scalars(select(Score).where(Score.id.in_([p.score_id for p in planned])))
    }
    _explain(
        session,
        [scores[p.score_id] for p in planned],
        lambda: scorer_for(request.model_version),
    )
    rows = []
    for p in planned:
        release_at = None
        if p.status == "active" and p.action in IN_FORCE:
            wait = safeguards.delay.draw(safeguards.rng)
            release_at = now + wait if wait > dt.timedelta(0) else None
        rows.append(
            {
                "account_id": p.account_id,
                "score_id": p.score_id,
                "action": p.action,
                "status": "scheduled" if release_at else p.status,
                "model_version": scores[p.score_id].model_version,
                "score": scores[p.score_id].score,
                "reasons": scores[p.score_id].reasons,
                "policy_version": policy.version,
                "rule": p.rule,
                "release_at": release_at,
                "expires_at": term_end(release_at or now, p.term_days),
            }
        )
    created = record_actions(
        session,
        rows,
        actor=ACTOR,
        notes={p.score_id: {"held": held} for p in planned if held and p.rule.endswith(HELD)},
    )
    # Counted once made: a concurrent run's rows are not this run's (record_actions).
    breaker.count(
        session,
        now,
        sum(a.action == "ban" and a.status in ("active", "scheduled") for a in created),
    )
    outcome = put_in_force(
        session,
        created,
        neighbours=neighbours,
        key=f"snapshot:{request.snapshot_id}:{request.model_version}",
    )
    outcome.summary = {
        "actions": len(created),
        "scheduled": sum(a.status == "scheduled" for a in created),
        "held": sum(bool(a.rule and a.rule.endswith(HELD)) for a in created),
        **outcome.summary,
    }
    return outcome


def _through_breaker(
    session: Session, planned: list[PlannedAction], limits: BreakerLimits, now: dt.datetime
) -> tuple[list[PlannedAction], str | None]:
    """The planned actions with automatic bans held as review cases while the breaker is (or
    this batch makes it) open, and the reason."""
    bans = sum(p.action == "ban" and p.status == "active" for p in planned)
    reason = hold_reason(session, limits, now, bans) if bans else None
    if reason is None:
        return planned, None
    return [
        dataclasses.replace(
            p, action="review", status="pending", rule=f"{p.rule}{HELD}", term_days=None
        )
        if p.action == "ban" and p.status == "active"
        else p
        for p in planned
    ], reason


def past_restrictions(
    session: Session, account_ids: Sequence[str], policy: Policy, now: dt.datetime
) -> dict[str, int]:
    """Restrictions of each account within the policy's lookback: the step of its next one."""
    if not account_ids:
        return {}
    since = now - dt.timedelta(days=policy.restrictions.lookback_days)
    rows = session.execute(
        select(EnforcementAction.account_id, func.count())
        .where(
            EnforcementAction.account_id.in_(sorted(set(account_ids))),
            EnforcementAction.action == "restrict",
            EnforcementAction.status.in_(COUNTED_RESTRICTIONS),
            EnforcementAction.created_at >= since,
        )
        .group_by(EnforcementAction.account_id)
    )
    return {str(account_id): int(n) for account_id, n in rows}


def _candidates(
    session: Session, request: ApplyEnforcement, policy: Policy, now: dt.datetime
) -> list[Candidate]:
    """The snapshot's actionable scores by the acting model that have no action yet, with the
    signals the policy's rules may need and the account's past restrictions."""
    rows = session.execute(
        select(
            Score.id,
            Score.account_id,
            Score.stage,
            Score.decision,
            Score.position,
            Account.status,
        )
        .join(Account, Account.account_id == Score.account_id)
        .where(
            Score.snapshot_id == request.snapshot_id,
            Score.model_version == request.model_version,
            Score.shadow.is_(False),
            Score.decision.in_(ACTIONED),
            ~exists().where(EnforcementAction.score_id == Score.id),
        )
        .order_by(Score.id)
    ).all()
    if not rows:
        return []
    records = records_at(session, request.snapshot_id, {r.id: r.position for r in rows})
    past = past_restrictions(session, [r.account_id for r in rows], policy, now)
    # An action decided but not yet released counts as in force: nothing is decided twice.
    scheduled = actions_by_account(session, {r.account_id for r in rows}, "scheduled")
    return [
        Candidate(
            score_id=r.id,
            account_id=r.account_id,
            stage=DetectionPoint(r.stage),
            band=r.decision,
            account_status=_standing(r.status, scheduled.get(r.account_id, set())),
            signals=signals_of(records[r.id]) if r.id in records else frozenset(),
            past_restrictions=past.get(r.account_id, 0),
        )
        for r in rows
    ]


def _explain(session: Session, scores: Sequence[Score], scorer: Callable[[], Scorer]) -> None:
    """Exact contributions of the model that decided, from the feature rows it saw; the model
    is loaded only when some score still needs them."""
    todo = [s for s in scores if s.reasons is None and s.features is not None]
    if todo:
        for score, reasons in zip(todo, scorer().reasons(feature_rows(todo)), strict=True):
            score.reasons = reasons
        session.flush()


def _standing(status: str, scheduled: set[str]) -> str:
    if status == "banned" or "ban" in scheduled:
        return "banned"
    if status == "restricted" or "restrict" in scheduled:
        return "restricted"
    return status
