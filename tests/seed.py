"""Rows written directly, for tests of what reads and changes them."""

from __future__ import annotations

import datetime as dt

from infra.db.models import (
    Account,
    EnforcementAction,
    Score,
    SignalSnapshot,
)
from infra.db.session import session_scope

WHEN = dt.datetime(2020, 1, 10, 12, tzinfo=dt.UTC)


def enforced(account_status: str, actions: list[tuple[str, str]]) -> list[int]:
    """An account with one enforcement action per (action, status); returns the action ids."""
    with session_scope() as session:
        session.add(
            Account(
                account_id="acc-1",
                phone="+421905123456",
                country="SK",
                phone_block="+421905123",
                status=account_status,
            )
        )
        snapshot = SignalSnapshot(
            content_hash="h" * 64, stage="messaging", task_id="t", record_count=1, records=b"[]"
        )
        session.add(snapshot)
        session.flush()
        ids = []
        for position, (action, status) in enumerate(actions):
            score = Score(
                snapshot_id=snapshot.id,
                position=position,
                account_id="acc-1",
                stage="messaging",
                observed_at=WHEN + dt.timedelta(minutes=position),
                model_version="m-a",
                shadow=False,
                score=0.99,
                decision=action,
                reasons=[],
            )
            session.add(score)
            session.flush()
            row = EnforcementAction(
                account_id="acc-1",
                score_id=score.id,
                action=action,
                status=status,
                model_version="m-a",
                score=0.99,
                reasons=[],
                policy_version="2019-12-07.1",
                actor="classifier",
            )
            session.add(row)
            session.flush()
            ids.append(row.id)
        return ids


def account_status() -> str:
    with session_scope() as session:
        return session.get_one(Account, "acc-1").status
