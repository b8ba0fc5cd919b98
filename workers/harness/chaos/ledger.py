"""What became of a trial's accounts: scored, lost or doubled, read from the database and the
platform sink once the pipeline has settled (or given up)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from infra.db.models import (
    AccountDecision,
    DecisionBatch,
    Delivery,
    EnforcementAction,
    OutboxMessage,
)
from tasks.scoring.decisions import scored_accounts
from workers.harness.report import CHUNK


@dataclass(frozen=True)
class Tally:
    """One trial's account. ``lost`` counts effects that should exist and do not: valid accounts
    never scored, follow-ups no consumer completed, actions in force never delivered.
    ``duplicated`` counts effects made twice: a second decision by the same model on an account
    sent once to a stage, a second active ban of an account. ``resent`` counts deliveries the
    platform received again under an idempotency key it already had (a sender that died between
    the receiver's write and its confirmation): at-least-once delivery, which the receiver drops
    by the key."""

    scored: int
    unscored: int
    unfinished_follow_ups: int
    undelivered_actions: int
    duplicated: int
    resent: int

    @property
    def lost(self) -> int:
        return self.unscored + self.unfinished_follow_ups + self.undelivered_actions

    @property
    def settled(self) -> bool:
        return self.lost == 0


def tally(
    session: Session,
    *,
    expected: Sequence[str],
    model_version: str,
    since: dt.datetime,
    sink: Path,
) -> Tally:
    """The account of the accounts ``expected`` to be scored, and of the follow-ups created
    since ``since``."""
    expected = list(dict.fromkeys(expected))  # an id sent twice is one account
    scored = scored_accounts(session, expected, model_version)
    action_ids: list[int] = []
    for start in range(0, len(expected), CHUNK):
        chunk = list(expected[start : start + CHUNK])
        action_ids += session.scalars(
            select(EnforcementAction.id).where(
                EnforcementAction.account_id.in_(chunk), EnforcementAction.status == "active"
            )
        ).all()
    duplicated = 0
    for start in range(0, len(expected), CHUNK):
        chunk = list(expected[start : start + CHUNK])
        duplicated += _beyond_one(
            session,
            select(func.count().label("n"))
            .select_from(AccountDecision)
            .join(DecisionBatch, DecisionBatch.snapshot_id == AccountDecision.snapshot_id)
            .where(
                AccountDecision.account_id.in_(chunk), DecisionBatch.model_version == model_version
            )
            .group_by(AccountDecision.account_id, DecisionBatch.stage),
        )
        duplicated += _beyond_one(
            session,
            select(func.count().label("n"))
            .where(
                EnforcementAction.account_id.in_(chunk),
                EnforcementAction.action == "ban",
                EnforcementAction.status == "active",
            )
            .group_by(EnforcementAction.account_id),
        )
    delivered: set[int] = set()
    for start in range(0, len(action_ids), CHUNK):
        delivered.update(
            session.scalars(
                select(Delivery.ref_id).where(
                    Delivery.kind == "platform_action",
                    Delivery.ref_id.in_(action_ids[start : start + CHUNK]),
                    Delivery.delivered_at.is_not(None),
                )
            )
        )
    unfinished = (
        session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.created_at >= since, OutboxMessage.completed_at.is_(None))
        )
        or 0
    )
    keys = {f"action-{i}" for i in action_ids}
    lines = Counter(k for k in _sink_keys(sink) if k in keys)
    return Tally(
        scored=scored,
        unscored=len(expected) - scored,
        unfinished_follow_ups=unfinished,
        undelivered_actions=len(action_ids) - len(delivered),
        duplicated=duplicated,
        resent=sum(n - 1 for n in lines.values()),
    )


def _beyond_one(session: Session, grouped: Select[Any]) -> int:
    """Rows beyond the first in each group of ``grouped`` (a count per group)."""
    counts = grouped.subquery()
    return session.scalar(select(func.coalesce(func.sum(counts.c.n - 1), 0))) or 0


def _sink_keys(sink: Path) -> list[str]:
    if not sink.exists():
        return []
    return [
        str(orjson.loads(line)["idempotency_key"])
        for line in sink.read_bytes().splitlines()
        if line.strip()
    ]
