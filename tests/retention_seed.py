"""A person's history written directly, old enough for every retention period to have passed:
an account with its snapshot record, decisions, an action with its score, label, delivery,
audit event and on-platform evidence, and refused input naming it."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

import orjson
from sqlalchemy.orm import Session

from infra.db.models import (
    Account,
    AccountDecision,
    AuditEvent,
    DeadLetter,
    DecisionBatch,
    Delivery,
    EnforcementAction,
    Evidence,
    Label,
    Score,
    SignalSnapshot,
)
from infra.number_hash import number_keys
from tasks.accounts.phones import account_number
from tasks.scoring.snapshot import compress_records

LONG_AGO = dt.datetime(2019, 1, 10, 12, tzinfo=dt.UTC)


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


@dataclass(frozen=True)
class Seeded:
    account_id: str
    phone: str
    snapshot_id: int
    action_id: int
    score_id: int
    evidence_id: int


def person(
    session: Session,
    account_id: str,
    phone: str,
    *,
    status: str = "reversed",
    action: str = "ban",
    allowed_neighbour: str | None = None,
    at: dt.datetime = LONG_AGO,
) -> Seeded:
    """``account_id``'s history, its action in ``status``; ``allowed_neighbour`` adds a second
    account to the same batch whose decision was an allow."""
    records = [{"account_id": account_id, "phone": phone}]
    if allowed_neighbour:
        records.append({"account_id": allowed_neighbour, "phone": phone[:-1] + "0"})
    for r in records:
        session.add(
            Account(
                account_id=r["account_id"],
                **account_number(r["phone"], number_keys()),
                status="active",
                first_seen_at=at,
            )
        )
    snapshot = SignalSnapshot(
        content_hash=_digest("snapshot", account_id),
        stage="messaging",
        task_id="t",
        record_count=len(records),
        records=compress_records(orjson.dumps(records)),
        received_at=at,
    )
    session.add(snapshot)
    session.flush()
    session.add(
        DecisionBatch(
            snapshot_id=snapshot.id,
            model_version="m",
            shadow=False,
            stage="messaging",
            allowed=len(records) - 1,
            reviewed=0,
            restricted=0,
            banned=1,
            scores=b"",
            decisions=b"",
            created_at=at,
            received_at=at,  # the snapshot's: PostgreSQL's partition key
        )
    )
    for position, r in enumerate(records):
        session.add(
            AccountDecision(
                account_id=r["account_id"],
                snapshot_id=snapshot.id,
                position=position,
                received_at=at,
            )
        )
    score = Score(
        snapshot_id=snapshot.id,
        position=0,
        account_id=account_id,
        stage="messaging",
        observed_at=at,
        model_version="m",
        score=0.99,
        decision=action,
        features=[1.0],
        reasons=[["x", 1.0]],
        created_at=at,
    )
    session.add(score)
    session.flush()
    taken = EnforcementAction(
        account_id=account_id,
        score_id=score.id,
        action=action,
        status=status,
        model_version="m",
        score=0.99,
        reasons=[],
        policy_version="p",
        actor="policy",
        created_at=at,
    )
    session.add(taken)
    session.flush()
    session.add(
        Label(
            account_id=account_id,
            score_id=score.id,
            abusive=False,
            source="appeal",
            action_id=taken.id,
            decided_by="r",
            created_at=at,
        )
    )
    session.add(
        Delivery(
            kind="platform_action",
            ref_id=taken.id,
            sink="jsonl:x",
            item={"action_id": taken.id, "account_id": account_id},
            recorded_at=at,
            status="delivered",
            delivered_at=at,
        )
    )
    session.add(
        AuditEvent(
            entity="enforcement_action",
            entity_id=taken.id,
            event="created",
            actor="policy",
            details={"account_id": account_id},
            at=at,
        )
    )
    evidence = Evidence(
        content_hash=_digest("evidence", account_id),
        source="on_platform",
        kind="enforcement",
        observed_at=at,
        account_id=account_id,
        excerpt=f"ban of {phone}",
        indicators={"phones": [phone]},
        action_id=taken.id,
        received_at=at,
    )
    session.add(evidence)
    session.add(
        DeadLetter(
            fingerprint=_digest("dead letter", account_id),
            task_name="scoring.score_accounts",
            account_id=account_id,
            reason="bad",
            payload=f'{{"phone": "{phone}"}}',
            created_at=at,
        )
    )
    session.flush()
    return Seeded(account_id, phone, snapshot.id, taken.id, score.id, evidence.id)
