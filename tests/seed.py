"""Rows written directly, for tests of what reads and changes them."""

from __future__ import annotations

import datetime as dt
import zlib
from typing import Any

import orjson
from sqlalchemy import insert
from sqlalchemy.orm import Session

from infra.db.models import (
    Account,
    EnforcementAction,
    Score,
    SignalSnapshot,
    utcnow,
)
from infra.db.session import session_scope
from infra.number_hash import number_keys
from tasks.accounts.phones import account_number
from tasks.accounts.signals import AccountSignals, parse_record
from tasks.evidence.on_platform import Ban, record_bans
from tasks.scoring.features import FEATURES
from tasks.scoring.snapshot import compress_records
from tests.records import messaging_block, record

WHEN = dt.datetime(2020, 1, 10, 12, tzinfo=dt.UTC)


def _account(session: Session, account_id: str, phone: str, status: str) -> None:
    session.add(
        Account(
            account_id=account_id,
            **account_number(phone, number_keys()),
            status=status,
        )
    )
    session.flush()


def _snapshot(session: Session, key: str) -> int:
    snapshot = SignalSnapshot(
        content_hash=key.ljust(64, "h")[:64],
        stage="messaging",
        task_id="t",
        record_count=1,
        records=zlib.compress(b"[]"),
    )
    session.add(snapshot)
    session.flush()
    return snapshot.id


def _action(
    session: Session,
    account_id: str,
    action: str,
    status: str,
    *,
    observed_at: dt.datetime,
    snapshot_id: int,
    position: int = 0,
) -> int:
    """One enforcement action on ``account_id`` with the score it came from."""
    score = Score(
        snapshot_id=snapshot_id,
        position=position,
        account_id=account_id,
        stage="messaging",
        observed_at=observed_at,
        model_version="m-a",
        shadow=False,
        score=0.99,
        decision=action,
        reasons=[],
    )
    session.add(score)
    session.flush()
    row = EnforcementAction(
        account_id=account_id,
        score_id=score.id,
        action=action,
        status=status,
        model_version="m-a",
        score=0.99,
        reasons=[],
        policy_version="2019-12-07.2",
        actor="classifier",
    )
    session.add(row)
    session.flush()
    return row.id


def enforced(account_status: str, actions: list[tuple[str, str]]) -> list[int]:
    """An account with one enforcement action per (action, status); returns the action ids."""
    with session_scope() as session:
        _account(session, "acc-1", "+421905123456", account_status)
        snapshot_id = _snapshot(session, "acc-1")
        return [
            _action(
                session,
                "acc-1",
                action,
                status,
                observed_at=WHEN + dt.timedelta(minutes=i),
                snapshot_id=snapshot_id,
                position=i,
            )
            for i, (action, status) in enumerate(actions)
        ]


def account_status() -> str:
    with session_scope() as session:
        return session.get_one(Account, "acc-1").status


def banned_profile(
    session: Session,
    account_id: str,
    phone: str,
    business: dict[str, Any],
    *,
    observed_at: dt.datetime = WHEN,
    status: str = "active",
) -> tuple[int, list[int]]:
    """A ban (in force unless ``status`` says otherwise) of an account with a business profile,
    recorded as on-platform evidence the way enforcement records it: (action id, evidence ids)."""
    _account(session, account_id, phone, "banned" if status == "active" else "active")
    snapshot_id = _snapshot(session, account_id)
    action_id = _action(
        session, account_id, "ban", status, observed_at=observed_at, snapshot_id=snapshot_id
    )
    raw = record(
        account_id,
        phone=phone,
        business=business,
        registered_at=observed_at - dt.timedelta(days=1),
        observed_at=observed_at,
    )
    ban = Ban(action_id, 0.99, "m-a", parse_record(raw, AccountSignals, now=utcnow()))
    return action_id, record_bans(session, [ban])


# What a case's model saw in its neighbourhoods, in ``FEATURES`` order after the signals.
NEIGHBOURHOOD = {"block_ban_rate": 0.25, "network_report_rate": 0.125, "device_regs_1h": 14.0}
REASONS = [
    {"feature": "peak_msgs_15s", "value": 40.0, "contribution": 1.8312},
    {"feature": "block_ban_rate", "value": 0.25, "contribution": 0.4021},
]


def review_phone(i: int) -> str:
    """The phone number of the ``i``-th account :func:`review_cases` makes."""
    return f"+42190{i:07d}"


def review_cases(
    session: Session,
    count: int,
    *,
    stage: str = "messaging",
    first: dt.datetime = WHEN,
    every: dt.timedelta = dt.timedelta(minutes=1),
    prefix: str = "rev",
    status: str = "pending",
) -> list[int]:
    """``count`` review cases at ``stage``, each on an account of its own, the ``i``-th made at
    ``first + i * every``: accounts, one snapshot holding their records, scores with the feature
    row and reasons enforcement keeps, and the actions, in a few statements whatever ``count``
    is. Returns the cases' ids, oldest first."""
    ids = [f"{prefix}-{i}" for i in range(count)]
    made = [first + i * every for i in range(count)]
    keys = number_keys()
    session.execute(
        insert(Account),
        [
            {
                "account_id": a,
                **account_number(review_phone(i), keys),
                "status": "active",
                "first_seen_at": made[i],
            }
            for i, a in enumerate(ids)
        ],
    )
    records = [
        record(
            a,
            phone=review_phone(i),
            observed_at=made[i],
            messaging=messaging_block(peak_msgs_15s=40),
        )
        for i, a in enumerate(ids)
    ]
    snapshot = SignalSnapshot(
        content_hash=f"{prefix}-{stage}-{first.isoformat()}".ljust(64, "h")[:64],
        stage=stage,
        task_id="t",
        record_count=count,
        records=compress_records(orjson.dumps(records)),
    )
    session.add(snapshot)
    session.flush()
    row = [NEIGHBOURHOOD.get(name, 0.0) for name in FEATURES]
    score_ids = session.scalars(
        insert(Score).returning(Score.id, sort_by_parameter_order=True),
        [
            {
                "snapshot_id": snapshot.id,
                "position": i,
                "account_id": a,
                "stage": stage,
                "observed_at": made[i],
                "model_version": "m-a",
                "shadow": False,
                "score": 0.9,
                "decision": "review",
                "features": row,
                "reasons": REASONS,
                "created_at": made[i],
            }
            for i, a in enumerate(ids)
        ],
    ).all()
    return list(
        session.scalars(
            insert(EnforcementAction).returning(EnforcementAction.id, sort_by_parameter_order=True),
            [
                {
                    "account_id": a,
                    "score_id": score_ids[i],
                    "action": "review",
                    "status": status,
                    "model_version": "m-a",
                    "score": 0.9,
                    "reasons": REASONS,
                    "policy_version": "2019-12-07.2",
                    "rule": "band:review",
                    "actor": "classifier",
                    "created_at": made[i],
                }
                for i, a in enumerate(ids)
            ],
        )
    )
