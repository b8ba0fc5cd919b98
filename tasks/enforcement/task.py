"""``enforcement.apply`` and ``enforcement.deliver``.

``apply`` turns the actionable scores of one snapshot into actions. Idempotency lives in the
database: one action per score (unique ``score_id``) and one active ban per account (a partial
unique index), so a redelivered or concurrent run inserts nothing twice. Banned accounts with a
business profile become on-platform evidence for the companies behind them.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
from pydantic import Field
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from infra.db.models import (
    Account,
    AuditEvent,
    Delivery,
    EnforcementAction,
    Evidence,
    Score,
    SignalSnapshot,
)
from infra.db.session import insert_ignore
from infra.neighbour_store import RedisNeighbourStore
from infra.redis_client import get_redis
from infra.settings import get_settings
from infra.sinks import JsonlSink
from tasks.base import Payload, Run, stage_task
from tasks.enforcement.policy import Candidate, account_status_after, plan
from tasks.evidence.indicators import email_domain, registered_domain
from tasks.scoring.model import ACTIONED
from tasks.scoring.serving import scorer_for
from tasks.scoring.signals import AccountSignals
from tasks.scoring.task import snapshot_records

ACTOR = "classifier"


class ApplyEnforcement(Payload):
    snapshot_id: int = Field(ge=1)
    model_version: str = Field(min_length=1, max_length=64)


class DeliverActions(Payload):
    action_ids: list[int] = Field(min_length=1, max_length=10_000)


@stage_task("enforcement.apply", ApplyEnforcement, soft_time_limit=120, time_limit=150)
def apply(run: Run, request: ApplyEnforcement) -> dict[str, Any]:
    session = run.session
    settings = get_settings()
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
    planned = plan((Candidate(*row) for row in rows), settings.enforcement_mode)
    if not planned:
        return {"actions": 0}

    scores = {
        s.id: s
        for s in session.scalars(select(Score).where(Score.id.in_([p.score_id for p in planned])))
    }
    _explain(session, request.model_version, [scores[p.score_id] for p in planned])
    session.execute(
        insert_ignore(session, EnforcementAction),
        [
            {
                "account_id": p.account_id,
                "score_id": p.score_id,
                "action": p.action,
                "status": p.status,
                "model_version": scores[p.score_id].model_version,
                "score": scores[p.score_id].score,
                "reasons": scores[p.score_id].reasons,
                "policy_version": settings.policy_version,
                "actor": ACTOR,
            }
            for p in planned
        ],
    )
    created = session.scalars(
        select(EnforcementAction).where(
            EnforcementAction.score_id.in_([p.score_id for p in planned])
        )
    ).all()
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
    in_force = [a for a in created if a.status == "active" and a.action in {"ban", "restrict"}]
    for action in ("ban", "restrict"):
        ids = [a.account_id for a in in_force if a.action == action]
        if ids:
            # A restriction never overwrites a ban, even one committed by a concurrent run.
            session.execute(
                update(Account)
                .where(Account.account_id.in_(ids), Account.status != "banned")
                .values(status=account_status_after(action))
            )

    records = _records_by_account(
        session, request.snapshot_id, {a.account_id for a in created if a.action == "ban"}
    )
    banned = [
        records[a.account_id]
        for a in created
        if a.action == "ban" and a.status == "active" and a.account_id in records
    ]
    if banned:
        # Counted in Redis only once the bans are committed.
        run.after_commit(lambda: RedisNeighbourStore(get_redis()).record_bans(banned))

    evidence_ids = _on_platform_evidence(session, created, records, scores)
    if in_force:
        run.enqueue_after_commit(
            "enforcement.deliver",
            {"action_ids": [a.id for a in in_force]},
            dedupe_key=f"enforcement.deliver:{request.snapshot_id}:{request.model_version}",
        )
    if evidence_ids:
        run.enqueue_after_commit(
            "evidence.link",
            {"evidence_ids": evidence_ids},
            dedupe_key=f"evidence.link:snapshot:{request.snapshot_id}:{request.model_version}",
        )
    return {"actions": len(created), "in_force": len(in_force), "evidence": len(evidence_ids)}


def _explain(session: Session, model_version: str, scores: list[Score]) -> None:
    """Exact contributions of the model that decided, from the feature rows it saw."""
    todo = [s for s in scores if s.reasons is None and s.features is not None]
    if not todo:
        return
    features = np.array(
        [[np.nan if v is None else v for v in s.features or ()] for s in todo], dtype=np.float32
    )
    for score, reasons in zip(
        todo, scorer_for(session, model_version).reasons(features), strict=True
    ):
        score.reasons = reasons
    session.flush()


def _records_by_account(
    session: Session, snapshot_id: int, account_ids: set[str]
) -> dict[str, AccountSignals]:
    """The validated records of the given accounts; the rest of the batch is not re-validated."""
    snapshot = session.get(SignalSnapshot, snapshot_id)
    if snapshot is None:
        return {}
    out = {}
    for raw in snapshot_records(snapshot):
        if not isinstance(raw, dict) or raw.get("account_id") not in account_ids:
            continue
        try:
            record = AccountSignals.model_validate(raw)
        except ValueError:
            continue  # the rejected records of the batch, already dead-lettered by scoring
        out[record.account_id] = record
    return out


def _on_platform_evidence(
    session: Session, created: Any, records: dict[str, AccountSignals], scores: dict[int, Score]
) -> list[int]:
    """A banned account's business profile is on-platform evidence against its company."""
    rows = []
    for action in created:
        record = records.get(action.account_id)
        if action.action != "ban" or record is None or record.business is None:
            continue
        profile = record.business
        domains = sorted(
            {d for d in (registered_domain(profile.website), email_domain(profile.email)) if d}
        )
        indicators = {
            "names": [profile.name] if profile.name else [],
            "domains": domains,
            "emails": [profile.email.lower()] if profile.email else [],
            "phones": [record.phone],
        }
        key = f"enforcement-action:{action.id}"
        rows.append(
            {
                "content_hash": hashlib.sha256(key.encode()).hexdigest(),
                "source": "on_platform",
                "kind": "enforcement",
                "observed_at": scores[action.score_id].observed_at,
                "url": None,
                "account_id": action.account_id,
                "claims_bulk": False,
                "excerpt": f"account {action.account_id} banned for automated or bulk messaging "
                f"(score {action.score:.3f}, model {action.model_version})",
                "indicators": indicators,
            }
        )
    if not rows:
        return []
    session.execute(insert_ignore(session, Evidence), rows)
    return list(
        session.scalars(
            select(Evidence.id).where(Evidence.content_hash.in_([r["content_hash"] for r in rows]))
        )
    )


@stage_task("enforcement.deliver", DeliverActions, soft_time_limit=60, time_limit=90)
def deliver(run: Run, request: DeliverActions) -> dict[str, Any]:
    """Tell the platform which accounts to ban or restrict, once per action."""
    session = run.session
    delivered = set(
        session.scalars(
            select(Delivery.ref_id).where(
                Delivery.kind == "platform_action", Delivery.ref_id.in_(request.action_ids)
            )
        )
    )
    actions = session.scalars(
        select(EnforcementAction).where(
            EnforcementAction.id.in_(request.action_ids), EnforcementAction.status == "active"
        )
    ).all()
    todo = [a for a in actions if a.id not in delivered]
    sink = JsonlSink(get_settings().platform_sink_path)
    sink.deliver(
        [
            {
                "idempotency_key": f"action-{a.id}",
                "account_id": a.account_id,
                "action": a.action,
                "policy_version": a.policy_version,
                "model_version": a.model_version,
            }
            for a in todo
        ]
    )
    if todo:
        session.execute(
            insert_ignore(session, Delivery),
            [{"kind": "platform_action", "ref_id": a.id, "sink": str(sink)} for a in todo],
        )
    return {"delivered": len(todo)}
