"""``scoring.score_accounts``: validate, score, store, and hand actioned accounts to enforcement."""

from __future__ import annotations

import hashlib
import math
import zlib
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.db.models import Account, Score, SignalSnapshot, utcnow
from infra.db.session import insert_ignore, prepare_insert_ignore
from infra.dead_letters import Rejection
from infra.neighbour_store import RedisNeighbourStore
from infra.redis_client import get_redis
from tasks.base import Run, stage_task
from tasks.scoring.batch import ScoredBatch, score_records
from tasks.scoring.model import ACTIONED
from tasks.scoring.phones import number_info, phone_block
from tasks.scoring.serving import current_scorers
from tasks.scoring.signals import ScoringRequest, validate_records

TASK_NAME = "scoring.score_accounts"


@stage_task(TASK_NAME, ScoringRequest, soft_time_limit=120, time_limit=150)
def score_accounts(run: Run, request: ScoringRequest) -> dict[str, Any]:
    records, positions, rejected = validate_records(request.stage, request.accounts)
    if rejected:
        run.reject(
            [Rejection(reason, item, index, _account_id(item)) for index, item, reason in rejected]
        )
    if not records:
        return {"scored": 0, "rejected": len(rejected)}

    active, shadow = current_scorers(run.session)
    batch = score_records(
        request.stage, records, active, shadow, RedisNeighbourStore(get_redis()), explain=False
    )
    snapshot_id = store_batch(run.session, run.task_id, request, batch, positions)

    acting = batch.acting
    actioned = sum(1 for d in acting.decisions if d in ACTIONED)
    if actioned:
        run.enqueue_after_commit(
            "enforcement.apply",
            {"snapshot_id": snapshot_id, "model_version": acting.version},
            dedupe_key=f"enforcement.apply:{snapshot_id}:{acting.version}",
        )
    return {
        "scored": len(records),
        "rejected": len(rejected),
        "actioned": actioned,
        "snapshot_id": snapshot_id,
    }


def _account_id(item: Any) -> str | None:
    value = item.get("account_id") if isinstance(item, dict) else None
    return value[:64] if isinstance(value, str) else None


_ACCOUNT_COLUMNS = ("account_id", "phone", "country", "phone_block", "status", "first_seen_at")
# The order of the rows store_batch writes to ``scores``.
SCORE_COLUMNS = (
    "snapshot_id",
    "position",
    "account_id",
    "stage",
    "observed_at",
    "model_version",
    "shadow",
    "score",
    "decision",
    "features",
    "reasons",
    "created_at",
)


def store_batch(
    session: Session,
    task_id: str | None,
    request: ScoringRequest,
    batch: ScoredBatch,
    positions: list[int],
) -> int:
    """Store the batch's snapshot, its accounts and every model's scores; the snapshot's id.

    Everything is prepared before the first write: on SQLite the first write takes the
    database's write lock, and the other worker processes wait for it until commit.
    """
    raw = orjson.dumps(request.accounts)
    content_hash = hashlib.sha256(request.stage.value.encode() + b"\0" + raw).hexdigest()
    snapshot = {
        "content_hash": content_hash,
        "stage": request.stage.value,
        "task_id": task_id,
        "record_count": len(request.accounts),
        "records": zlib.compress(raw, 1),
    }
    conversions: dict[tuple[Any, Any], Any] = {}  # observation times appear in both tables
    accounts = prepare_insert_ignore(
        session, Account, _ACCOUNT_COLUMNS, _account_rows(batch), conversions
    )
    scores = prepare_insert_ignore(
        session, Score, SCORE_COLUMNS, _score_rows(batch, positions), conversions
    )

    session.execute(insert_ignore(session, SignalSnapshot), [snapshot])
    snapshot_id = session.scalar(
        select(SignalSnapshot.id).where(SignalSnapshot.content_hash == content_hash)
    )
    assert snapshot_id is not None
    accounts.execute(session)
    scores.execute(session, snapshot_id=snapshot_id)
    return snapshot_id


def _account_rows(batch: ScoredBatch) -> list[tuple[Any, ...]]:
    """Rows of ``_ACCOUNT_COLUMNS``: each account as first seen (kept if already known)."""
    return [
        (
            r.account_id,
            r.phone,
            number_info(r.phone).country,
            phone_block(r.phone),
            "active",
            r.observed_at,
        )
        for r in batch.records
    ]


def _score_rows(batch: ScoredBatch, positions: list[int]) -> list[tuple[Any, ...]]:
    """Rows of ``SCORE_COLUMNS`` for every model's decisions, the snapshot id left to fill in.

    The acting model's actioned rows keep their features, for enforcement to explain them.
    """
    now = utcnow()
    stage = batch.stage.value
    rows = []
    for result in batch.results:
        acting = not result.shadow
        for i, (record, decision, score) in enumerate(
            zip(batch.records, result.decisions, result.scores.tolist(), strict=True)
        ):
            features = feature_list(batch.features[i]) if acting and decision in ACTIONED else None
            rows.append(
                (
                    None,  # snapshot_id
                    positions[i],
                    record.account_id,
                    stage,
                    record.observed_at,
                    result.version,
                    result.shadow,
                    score,
                    decision,
                    features,
                    None,  # reasons: filled in by enforcement
                    now,
                )
            )
    return rows


def feature_list(row: Any) -> list[float | None]:
    """A feature row as JSON: missing values (NaN) become null."""
    return [None if math.isnan(value) else float(value) for value in row.tolist()]


def snapshot_records(snapshot: SignalSnapshot) -> list[Any]:
    """The raw records of a snapshot, positions as stored on each score."""
    records: list[Any] = orjson.loads(zlib.decompress(snapshot.records))
    return records
