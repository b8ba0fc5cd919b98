"""The scoring snapshot: one batch as received, the accounts it names and every model's scores.

This module is the one owner of how a batch is kept: it writes the snapshot (the request's
records, zstd-compressed JSON, addressed by content hash), the account rows, every model's
decisions (packed per batch by ``tasks.scoring.decisions``, with a per-account index entry),
and a score row, with the feature row the model saw (missing values as JSON null), for each
actioned decision; and it reads them back, for enforcement to explain a decision from the exact
row the model saw and to find the record a score was made from (by its position in the
snapshot).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import math
import zlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson
import zstandard
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from infra.db.inserts import insert_ignore, prepare_insert_ignore
from infra.db.models import Account, AccountDecision, DecisionBatch, Score, SignalSnapshot, utcnow
from infra.db.partitions import claim_snapshot, claimed_snapshot, is_partitioned
from infra.number_hash import NumberKeys, number_keys
from tasks.accounts.phones import number_info, phone_block
from tasks.accounts.signals import AccountSignals, RecordError, parse_record
from tasks.scoring.decisions import BATCH_COLUMNS, INDEX_COLUMNS, batch_row
from tasks.scoring.inference import ScoredBatch
from tasks.scoring.model import ACTIONED

_ACCOUNT_COLUMNS = (
    "account_id",
    "phone_hash",
    "phone_key",
    "country",
    "phone_block",
    "status",
    "first_seen_at",
)
_LOOKUP_CHUNK = 1000  # account ids per IN (...) list
# From this many accounts a batch looks up the known ones first (``_new_account_rows``).
_LOOKUP_FROM = 100
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

log = logging.getLogger(__name__)

# Level 1: a batch of 1,000 accounts (~660 KB of JSON) in ~0.7 ms and ~85 KB, where zlib's
# fastest level took ~2.3 ms and ~120 KB (measured here), on the scoring path of every batch.
_COMPRESSOR = zstandard.ZstdCompressor(level=1)
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def compress_records(raw: bytes) -> bytes:
    """A snapshot's records as they are stored."""
    return _COMPRESSOR.compress(raw)


def decompress_records(stored: bytes) -> bytes:
    """A snapshot's records as stored: zstd, or zlib for snapshots of earlier releases."""
    if stored.startswith(_ZSTD_MAGIC):
        return zstandard.ZstdDecompressor().decompress(stored)
    return zlib.decompress(stored)


@dataclass(frozen=True)
class EncodedRecords:
    """A request's records as the snapshot keeps them: a JSON array with every record at its
    index in the request (null where one was refused), and the indexes of those kept."""

    raw: bytes
    positions: list[int]


def encode_records(
    accounts: Sequence[Any], positions: Sequence[int]
) -> tuple[EncodedRecords, list[tuple[int, str]]]:
    """The valid records at ``positions`` as the snapshot keeps them, and those that cannot be
    kept, with the reason. A record can pass validation and still not encode: fields bulkguard
    does not read are not validated, and one may hold a lone surrogate or be nested deeper than
    the encoder allows; such a record is refused alone."""
    if len(positions) == len(accounts):
        # Every record valid, as nearly always: one call encodes the array, the same bytes as
        # record by record for a fifth of the time. Should it fail, the records go one by one
        # to find the one that cannot be kept.
        try:
            return EncodedRecords(orjson.dumps(list(accounts)), list(positions)), []
        except orjson.JSONEncodeError:
            pass
    encoded: dict[int, bytes] = {}
    refused: list[tuple[int, str]] = []
    for position in positions:
        try:
            encoded[position] = orjson.dumps(accounts[position])
        except orjson.JSONEncodeError as exc:
            refused.append((position, f"record cannot be kept as JSON: {exc}"))
    raw = b"[" + b",".join(encoded.get(i, b"null") for i in range(len(accounts))) + b"]"
    return EncodedRecords(raw, list(encoded)), refused


def snapshot_hash(stage: str, raw: bytes) -> str:
    """The content hash that names a snapshot of ``stage`` whose records encode to ``raw``: a
    redelivered batch finds its snapshot by it, and the HTTP api tells from it when a batch it
    accepted was scored."""
    return hashlib.sha256(stage.encode() + b"\0" + raw).hexdigest()


def store_batch(
    session: Session,
    batch: ScoredBatch,
    *,
    encoded: EncodedRecords,
    record_count: int,
    task_id: str | None,
    now: dt.datetime,
    keys: NumberKeys | None = None,
) -> int:
    """Store the batch's snapshot, its accounts and every model's decisions, decided at
    ``now``; the snapshot's id. ``encoded`` holds the request's records as received
    (:func:`encode_records`), of ``record_count`` records. A new account keeps its number's
    hash under ``keys`` (the settings' unless given), its country and block, not the number.

    Everything is prepared before the first write: on SQLite the first write takes the
    database's write lock, and the other worker processes wait for it until commit.
    """
    point = batch.point
    raw, positions = encoded.raw, encoded.positions
    content_hash = snapshot_hash(point.value, raw)
    snapshot = {
        "content_hash": content_hash,
        "stage": point.value,
        "task_id": task_id,
        "record_count": record_count,
        "records": compress_records(raw),
    }
    conversions: dict[tuple[Any, Any], Any] = {}  # observation times appear in both tables
    account_rows = prepare_insert_ignore(
        session,
        Account,
        _ACCOUNT_COLUMNS,
        _new_account_rows(session, batch, keys or number_keys()),
        conversions,
    )
    # On PostgreSQL the batches and index entries carry their snapshot's ``received_at``, the
    # partition key (infra.db.partitions); SQLite does not partition and is spared the bytes.
    partitioned = is_partitioned(session)
    copied = ("received_at",) if partitioned else ()
    decided = [
        batch_row(r, stage=point.value, positions=positions, record_count=record_count, now=now)
        + (None,) * len(copied)
        for r in batch.results
    ]
    batch_rows = prepare_insert_ignore(session, DecisionBatch, BATCH_COLUMNS + copied, decided)
    index_rows = prepare_insert_ignore(
        session,
        AccountDecision,
        INDEX_COLUMNS + copied,
        [
            (r.account_id, None, p) + (None,) * len(copied)
            for r, p in zip(batch.records, positions, strict=True)
        ],
    )
    score_rows = prepare_insert_ignore(
        session, Score, SCORE_COLUMNS, _score_rows(batch, positions, now), conversions
    )
    snapshot_id, received_at = _store_snapshot(session, snapshot, partitioned=partitioned)
    at = {"received_at": received_at} if partitioned else {}
    account_rows.execute(session)
    batch_rows.execute(session, snapshot_id=snapshot_id, **at)
    index_rows.execute(session, snapshot_id=snapshot_id, **at)
    score_rows.execute(session, snapshot_id=snapshot_id)
    return snapshot_id


def _store_snapshot(
    session: Session, snapshot: dict[str, Any], *, partitioned: bool
) -> tuple[int, dt.datetime]:
    """The snapshot's id and ``received_at``: a new one's, or the one stored under its content
    hash by an earlier delivery of the batch. One statement for a new snapshot (RETURNING gives
    its id), a second only for a batch delivered again: a single account's latency counts them."""
    content_hash = snapshot["content_hash"]
    if partitioned:
        claimed = claim_snapshot(session, {**snapshot, "received_at": utcnow()})
        return claimed if claimed is not None else claimed_snapshot(session, content_hash)
    inserted = session.execute(
        insert_ignore(session, SignalSnapshot)
        .values(snapshot)
        .returning(SignalSnapshot.id, SignalSnapshot.received_at)
    ).one_or_none()
    if inserted is None:
        inserted = session.execute(
            select(SignalSnapshot.id, SignalSnapshot.received_at).where(
                SignalSnapshot.content_hash == content_hash
            )
        ).one()
    return inserted[0], inserted[1]


def _new_account_rows(
    session: Session, batch: ScoredBatch, keys: NumberKeys
) -> list[tuple[Any, ...]]:
    """Rows of ``_ACCOUNT_COLUMNS`` for the batch's accounts not yet known, as first seen.

    Past registration nearly every account is known: in a large batch, looking them up (a read,
    before the transaction writes) costs a fraction of converting and offering a row for each
    that the insert would ignore. A small batch offers them all: the query's own cost (~1 ms)
    is more than its rows', and a single account's latency is what such a batch is about. One
    that another worker adds meanwhile is ignored by the insert."""
    ids = list(dict.fromkeys(r.account_id for r in batch.records))
    known: set[str] = set()
    if len(ids) >= _LOOKUP_FROM:
        for start in range(0, len(ids), _LOOKUP_CHUNK):
            chunk = ids[start : start + _LOOKUP_CHUNK]
            known.update(
                session.scalars(select(Account.account_id).where(Account.account_id.in_(chunk)))
            )
    key_id = keys.current_id
    return [
        (
            r.account_id,
            keys.hash(r.phone),
            key_id,
            number_info(r.phone).country,
            phone_block(r.phone),
            "active",
            r.observed_at,
        )
        for r in batch.records
        if r.account_id not in known
    ]


def _score_rows(
    batch: ScoredBatch, positions: Sequence[int], now: dt.datetime
) -> list[tuple[Any, ...]]:
    """Rows of ``SCORE_COLUMNS`` for every model's actioned decisions, the snapshot id left to
    fill in. The acting model's keep their features, for enforcement to explain them."""
    point = batch.point.value
    rows = []
    for result in batch.results:
        acting = not result.shadow
        for i, decision in enumerate(result.decisions):
            if decision not in ACTIONED:
                continue
            record, score = batch.records[i], float(result.scores[i])
            features = _encode(batch.features[i]) if acting else None
            rows.append(
                (
                    None,  # snapshot_id
                    positions[i],
                    record.account_id,
                    point,
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


def _encode(row: npt.NDArray[np.float32]) -> list[float | None]:
    """A feature row as JSON: missing values (NaN) become null."""
    return [None if math.isnan(value) else float(value) for value in row.tolist()]


def feature_rows(scores: Sequence[Score]) -> npt.NDArray[np.float32]:
    """The feature rows the model saw for ``scores`` (each stored with its features)."""
    return np.array(
        [[np.nan if v is None else v for v in s.features or ()] for s in scores], dtype=np.float32
    )


def records_at(
    session: Session, snapshot_id: int, positions: Mapping[int, int]
) -> dict[int, AccountSignals]:
    """The validated records at the given positions of a snapshot, by the key each position
    is given under (a score id, say). A position whose record failed validation (it was
    dead-lettered by scoring and has no score) is left out.

    Records are read as history, leniently (``strict=False``): a record an earlier release
    scored may hold forms this release refuses on input (a Unix time, a number as text), and
    it must still explain its decision. One that cannot be read even so is left out, logged."""
    snapshot = session.get(SignalSnapshot, snapshot_id)
    if snapshot is None or not positions:
        return {}
    raw: list[Any] = orjson.loads(decompress_records(snapshot.records))
    out = {}
    for key, position in positions.items():
        if not 0 <= position < len(raw) or raw[position] is None:
            continue
        try:
            out[key] = parse_record(raw[position], AccountSignals, now=None, strict=False)
        except RecordError as exc:
            log.warning(
                "snapshot %d, position %d: stored record no longer readable: %s",
                snapshot_id,
                position,
                exc,
            )
    return out


def raw_records_at(session: Session, snapshot_id: int, positions: Sequence[int]) -> dict[int, Any]:
    """The records at ``positions`` of a snapshot exactly as kept (JSON values, unvalidated):
    what a subject export shows of what the model was sent. Erased or refused positions are
    left out."""
    snapshot = session.get(SignalSnapshot, snapshot_id)
    if snapshot is None or not positions:
        return {}
    raw: list[Any] = orjson.loads(decompress_records(snapshot.records))
    return {p: raw[p] for p in positions if 0 <= p < len(raw) and raw[p] is not None}


def blank_records(
    session: Session, positions: Mapping[int, Collection[int]], *, keeping: bool = False
) -> int:
    """Replace with JSON null the records of each snapshot (by id) at the given positions, or
    with ``keeping`` at every position but those. Every position stays (the decision batches
    are positional): retention blanks the allowed accounts' records, an erasure a subject's.
    The number of records blanked; one read and one batched write for all the snapshots. The
    content hash is left as it was: it is a digest of the batch as received, which keeps a
    redelivered batch from being stored twice and names no one."""
    if not positions:
        return 0
    rows = session.execute(
        select(SignalSnapshot.id, SignalSnapshot.records).where(
            SignalSnapshot.id.in_(list(positions))
        )
    ).all()
    blanked, changed = 0, []
    for snapshot_id, stored in rows:
        raw: list[Any] = orjson.loads(decompress_records(stored))
        given = positions[snapshot_id]
        here = [p for p, record in enumerate(raw) if record is not None and (p in given) != keeping]
        for position in here:
            raw[position] = None
        if here:
            blanked += len(here)
            changed.append({"id": snapshot_id, "records": compress_records(orjson.dumps(raw))})
    if changed:
        session.execute(update(SignalSnapshot), changed)
    return blanked
