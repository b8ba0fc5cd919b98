"""Putting actions in force and ending them: one path for automatic actions, decisions on
reviews and appeals, and expired restrictions.

An action in force sets the account's standing, is counted in its neighbourhoods once committed
(bans), is handed to the evidence stage (bans of accounts with a business profile, which it makes
on-platform evidence: ``evidence.record_bans``), and is delivered to the platform. Ending one
(expiry, an overturn) recomputes the standing from what remains in force and delivers the lift.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Exists, case, exists, select, update
from sqlalchemy.orm import Session

from infra.db.inserts import insert_new
from infra.db.models import Account, AuditEvent, EnforcementAction, Score
from infra.users import Actor
from tasks.accounts.signals import AccountSignals
from tasks.enforcement import statements
from tasks.enforcement.policy import account_status_after
from tasks.messages import DeliverActions, FollowUp, RecordBanEvidence
from tasks.neighbourhoods.rules import NeighbourStore
from tasks.outcome import Outcome
from tasks.scoring.snapshot import records_at

IN_FORCE = ("ban", "restrict")


def record_actions(
    session: Session,
    rows: Sequence[dict[str, Any]],
    *,
    actor: Actor,
    notes: Mapping[int, dict[str, Any]] | None = None,
) -> list[EnforcementAction]:
    """Insert actions and return those this call made, each audited with the policy and rule
    behind it and the ``notes`` given for its score id, each ban and restriction with its
    statement of reasons. An action already recorded for its score (a redelivered or
    concurrent run made it) is neither returned nor audited again."""
    created: list[EnforcementAction] = insert_new(
        session, EnforcementAction, [{**row, "actor": actor.name} for row in rows]
    )
    stated = statements.needing(created)
    statements.attach(session, stated, scored_records(session, stated))
    session.add_all(
        AuditEvent(
            entity="enforcement_action",
            entity_id=a.id,
            event=f"created:{a.status}",
            **actor.recorded(),
            details={
                "action": a.action,
                "score": a.score,
                "model_version": a.model_version,
                "policy_version": a.policy_version,
                "rule": a.rule,
                "expires_at": a.expires_at.isoformat() if a.expires_at else None,
                **({"release_at": a.release_at.isoformat()} if a.release_at else {}),
                **({"review": a.origin_id} if a.origin_id else {}),
                **(notes or {}).get(a.score_id, {}),
            },
        )
        for a in created
    )
    return created


def audit(
    session: Session, action_id: int, event: str, *, actor: Actor, details: dict[str, Any]
) -> None:
    """Append to the action's audit trail: who did what to it, and why."""
    session.add(
        AuditEvent(
            entity="enforcement_action",
            entity_id=action_id,
            event=event,
            details=details,
            **actor.recorded(),
        )
    )


def term_end(now: dt.datetime, days: int | None) -> dt.datetime | None:
    return now + dt.timedelta(days=days) if days is not None else None


def put_in_force(
    session: Session,
    actions: Sequence[EnforcementAction],
    *,
    neighbours: NeighbourStore,
    key: str,
) -> Outcome:
    """Make active ``actions`` count: the accounts' standing, the neighbourhood ban counts
    (after commit), on-platform evidence of bans, and their delivery to the platform. ``key``
    names this set of actions in the follow-ups' dedupe keys; ``evidence`` in the summary counts
    the bans handed to the evidence stage."""
    in_force = [a for a in actions if a.status == "active" and a.action in IN_FORCE]
    outcome = Outcome({"in_force": len(in_force), "evidence": 0})
    if not in_force:
        return outcome
    for action in IN_FORCE:
        ids = [a.account_id for a in in_force if a.action == action]
        if ids:
            # A restriction never overwrites a ban, even one committed by a concurrent run.
            session.execute(
                update(Account)
                .where(Account.account_id.in_(ids), Account.status != "banned")
                .values(status=account_status_after(action))
            )
    bans = [a for a in in_force if a.action == "ban"]
    records = scored_records(session, bans)
    counted = [records[a.id] for a in bans if a.id in records]
    if counted:
        # Counted in Redis only once the bans are committed.
        outcome.after_commit.append(lambda: neighbours.record_bans(counted))
    # Only a ban in force is evidence: a shadow ban was never made, and a notice must not say so.
    # A banned account's business profile points at the company behind it; one without a
    # profile points at nobody, and is not sent.
    profiled = [a.id for a in bans if a.id in records and records[a.id].business is not None]
    outcome.summary["evidence"] = len(profiled)
    outcome.follow_ups.append(
        FollowUp(
            DeliverActions(action_ids=[a.id for a in in_force]),
            dedupe_key=f"enforcement.deliver:{key}",
        )
    )
    if profiled:
        outcome.follow_ups.append(
            FollowUp(
                RecordBanEvidence(action_ids=profiled),
                dedupe_key=f"{RecordBanEvidence.TASK}:{key}",
            )
        )
    return outcome


def scored_records(
    session: Session, actions: Sequence[EnforcementAction]
) -> dict[int, AccountSignals]:
    """The record each action's score was computed from, by action id."""
    if not actions:
        return {}
    scores = {
        s.id: s
        for s in session.scalars(select(Score).where(Score.id.in_({a.score_id for a in actions})))
    }
    out: dict[int, AccountSignals] = {}
    by_snapshot: dict[int, dict[int, int]] = {}
    for a in actions:
        score = scores[a.score_id]
        by_snapshot.setdefault(score.snapshot_id, {})[a.id] = score.position
    for snapshot_id, positions in by_snapshot.items():
        out.update(records_at(session, snapshot_id, positions))
    return out


def actions_by_account(
    session: Session, account_ids: Iterable[str], status: str
) -> dict[str, set[str]]:
    """The kinds of action in ``status`` on each of the accounts (those with none are absent)."""
    found: dict[str, set[str]] = {}
    for account_id, action in session.execute(
        select(EnforcementAction.account_id, EnforcementAction.action).where(
            EnforcementAction.account_id.in_(set(account_ids)),
            EnforcementAction.status == status,
        )
    ):
        found.setdefault(account_id, set()).add(action)
    return found


def restore_standing(session: Session, account_ids: Iterable[str]) -> None:
    """Set each account's standing from the actions in force on it, as they are when the update
    is written: a ban committed meanwhile by another transaction is never overwritten."""
    accounts = sorted(set(account_ids))
    if not accounts:
        return
    # PostgreSQL: wait for any transaction that holds these accounts (putting an action in
    # force) to finish; the update below then runs on a snapshot that includes its action.
    # SQLite writes one transaction at a time, and this one already writes.
    session.execute(
        select(Account.account_id)
        .where(Account.account_id.in_(accounts))
        .order_by(Account.account_id)
        .with_for_update()
    )

    def held(kind: str) -> Exists:
        return exists().where(
            EnforcementAction.account_id == Account.account_id,
            EnforcementAction.status == "active",
            EnforcementAction.action == kind,
        )

    session.execute(
        update(Account)
        .where(Account.account_id.in_(accounts))
        .values(
            status=case((held("ban"), "banned"), (held("restrict"), "restricted"), else_="active")
        )
        .execution_options(synchronize_session="fetch")
    )


def end(
    session: Session,
    actions: Sequence[EnforcementAction],
    *,
    status: str,
    actor: Actor,
    details: dict[str, Any],
    key: str,
) -> Outcome:
    """End ``actions`` (``expired`` or ``reversed``): audited, standing recomputed, the lift
    delivered to the platform."""
    for action in actions:
        previous = action.status
        action.status = status
        audit(
            session,
            action.id,
            status,
            actor=actor,
            details={**details, "previous_status": previous},
        )
    session.flush()
    restore_standing(session, (a.account_id for a in actions))
    lifted = [a.id for a in actions if a.action in IN_FORCE]
    outcome = Outcome({status: len(actions)})
    if lifted:
        outcome.follow_ups.append(
            FollowUp(DeliverActions(action_ids=lifted), dedupe_key=f"enforcement.deliver:{key}")
        )
    return outcome
