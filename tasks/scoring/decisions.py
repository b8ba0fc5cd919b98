"""Every model's decisions on a batch, kept compact: one packed row per batch and model.

A scoring batch stores each model's scores and decisions as one :class:`DecisionBatch` row
(arrays indexed by the record's position in the snapshot) and each scored account as one
narrow :class:`AccountDecision` index entry; only actioned decisions become :class:`Score`
rows. This module packs those rows on the scoring path and reads them back for everything that
asks about decisions: counts, per-account lookups, drift and shadow comparisons.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from infra.db.models import AccountDecision, DecisionBatch, SignalSnapshot
from tasks.scoring.inference import ModelDecisions
from tasks.scoring.model import DECISIONS

# The order of the rows ``batch_rows`` builds for ``decision_batches``.
BATCH_COLUMNS = (
    "snapshot_id",
    "model_version",
    "shadow",
    "stage",
    "allowed",
    "reviewed",
    "restricted",
    "banned",
    "scores",
    "decisions",
    "created_at",
)
INDEX_COLUMNS = ("account_id", "snapshot_id", "position")
# The count column of each decision, in the order of DECISIONS.
COUNT_COLUMNS = ("allowed", "reviewed", "restricted", "banned")
_CODE = {decision: code for code, decision in enumerate(DECISIONS)}
_REFUSED = 255  # a position whose record was refused has no decision
_SCORE_TYPE = np.dtype("<f4")
_CHUNK = 1000  # ids per IN (...) list


@dataclass(frozen=True)
class Decided:
    """One model's decision on one record."""

    score: float
    decision: str


def batch_row(
    result: ModelDecisions,
    *,
    stage: str,
    positions: Sequence[int],
    record_count: int,
    now: dt.datetime,
) -> tuple[Any, ...]:
    """A row of ``BATCH_COLUMNS`` for one model's decisions, the snapshot id left to fill in.
    ``positions`` are the snapshot positions of the decided records, in the decisions' order,
    of a snapshot of ``record_count`` records."""
    scores = np.full(record_count, np.nan, dtype=_SCORE_TYPE)
    codes = np.full(record_count, _REFUSED, dtype=np.uint8)
    at = np.asarray(positions, dtype=np.intp)
    scores[at] = result.scores
    codes[at] = [_CODE[d] for d in result.decisions]
    counts = Counter(result.decisions)
    return (
        None,  # snapshot_id
        result.version,
        result.shadow,
        stage,
        *(counts[decision] for decision in DECISIONS),
        scores.tobytes(),
        codes.tobytes(),
        now,
    )


def unpack(scores: bytes, decisions: bytes) -> dict[int, Decided]:
    """A batch row's decisions by snapshot position."""
    values = np.frombuffer(scores, dtype=_SCORE_TYPE)
    codes = np.frombuffer(decisions, dtype=np.uint8)
    decided = np.flatnonzero(codes != _REFUSED)
    return {
        position: Decided(score, DECISIONS[code])
        for position, score, code in zip(
            decided.tolist(), values[decided].tolist(), codes[decided].tolist(), strict=True
        )
    }


def decisions_at(session: Session, snapshot_id: int, model_version: str) -> dict[int, Decided]:
    """``model_version``'s decisions on a snapshot, by position (empty if it made none)."""
    row = session.execute(
        select(DecisionBatch.scores, DecisionBatch.decisions).where(
            DecisionBatch.snapshot_id == snapshot_id,
            DecisionBatch.model_version == model_version,
        )
    ).first()
    return {} if row is None else unpack(*row)


def decision_counts(session: Session, *, shadow: bool = False) -> Iterator[tuple[str, str, int]]:
    """(stage, decision, how many) over every batch the acting (or the shadow) models decided."""
    columns = [func.coalesce(func.sum(getattr(DecisionBatch, c)), 0) for c in COUNT_COLUMNS]
    rows = session.execute(
        select(DecisionBatch.stage, *columns)
        .where(DecisionBatch.shadow.is_(shadow))
        .group_by(DecisionBatch.stage)
    )
    for stage, *counts in rows:
        for decision, n in zip(DECISIONS, counts, strict=True):
            if n:
                yield stage, decision, int(n)


def decided_count(session: Session, *, after_id: int = 0, shadow: bool = False) -> int:
    """How many decisions the acting (or shadow) models stored in batches after ``after_id``."""
    total = sum(getattr(DecisionBatch, c) for c in COUNT_COLUMNS)
    found = session.scalar(
        select(func.sum(total)).where(DecisionBatch.id > after_id, DecisionBatch.shadow.is_(shadow))
    )
    return int(found or 0)


def latest_batch_id(session: Session) -> int:
    """The id of the last decision batch stored, 0 if none."""
    return session.scalar(select(func.max(DecisionBatch.id))) or 0


def scored_accounts(session: Session, account_ids: Sequence[str], model_version: str) -> int:
    """How many of ``account_ids`` ``model_version`` decided on as the acting model (a thousand
    ids a query): what it scored as a shadow, before it was promoted, does not count."""
    query = (
        select(func.count(distinct(AccountDecision.account_id)))
        .join(DecisionBatch, DecisionBatch.snapshot_id == AccountDecision.snapshot_id)
        .where(DecisionBatch.model_version == model_version, DecisionBatch.shadow.is_(False))
    )
    ids = list(dict.fromkeys(account_ids))
    return sum(
        session.scalar(query.where(AccountDecision.account_id.in_(ids[i : i + _CHUNK]))) or 0
        for i in range(0, len(ids), _CHUNK)
    )


@dataclass(frozen=True)
class AccountDecided:
    """One model's decision on one account, as an operator looks it up."""

    snapshot_id: int
    received_at: dt.datetime
    stage: str
    model_version: str
    shadow: bool
    score: float
    decision: str


def decisions_of(session: Session, account_id: str) -> list[AccountDecided]:
    """Every decision any model made on one account, oldest batch first."""
    rows = session.execute(
        select(
            AccountDecision.snapshot_id,
            AccountDecision.position,
            SignalSnapshot.received_at,
            DecisionBatch.stage,
            DecisionBatch.model_version,
            DecisionBatch.shadow,
            DecisionBatch.scores,
            DecisionBatch.decisions,
        )
        .join(DecisionBatch, DecisionBatch.snapshot_id == AccountDecision.snapshot_id)
        .join(SignalSnapshot, SignalSnapshot.id == AccountDecision.snapshot_id)
        .where(AccountDecision.account_id == account_id)
        .order_by(AccountDecision.snapshot_id, DecisionBatch.shadow, DecisionBatch.id)
    )
    out = []
    for snapshot_id, position, received_at, stage, version, shadow, scores, decisions in rows:
        code = decisions[position] if position < len(decisions) else _REFUSED
        if code == _REFUSED:
            continue
        (score,) = np.frombuffer(scores, dtype=_SCORE_TYPE, count=1, offset=4 * position)
        out.append(
            AccountDecided(
                snapshot_id, received_at, stage, version, shadow, float(score), DECISIONS[code]
            )
        )
    return out
