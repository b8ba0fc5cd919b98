"""Values a plain Celery client can send that strict JSON, the database or the snapshot cannot
hold: each refuses only the record that carries it, on SQLite and PostgreSQL alike.

The body is encoded as Celery's default serializer does (the standard library's ``json``), and
decoded by the workers' own serializer, as a worker would.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kombu.serialization import loads
from sqlalchemy import select
from sqlalchemy.orm import Session

from infra import dead_letters
from infra.db.models import DeadLetter, utcnow
from tasks.evidence.ingest import ingest_documents
from tasks.messages import IngestEvidence, ScoreAccounts
from tasks.neighbourhoods.memory import MemoryNeighbourStore
from tasks.outcome import Outcome
from tasks.scoring.decisions import decided_count
from tasks.scoring.model import Scorer
from tasks.scoring.score_batch import score_batch
from tasks.scoring.snapshot import compress_records, decompress_records, encode_records
from tests.records import messaging_accounts
from workers.serialization import register_fast_json


def nested(depth: int) -> Any:
    value: Any = "deep"
    for _ in range(depth):
        value = {"x": value}
    return value


def hostile(good: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each bad record by what is wrong with it, made from a good one."""

    def variant(**changes: Any) -> dict[str, Any]:
        record: dict[str, Any] = json.loads(json.dumps(good))
        for path, value in changes.items():
            *parents, leaf = path.split("__")
            target = record
            for parent in parents:
                target = target.setdefault(parent, {})
            target[leaf] = value
        return record

    return {
        "nan ratio": variant(messaging__reply_ratio=float("nan")),
        "infinite cv": variant(messaging__send_interval_cv=float("inf")),
        "count beyond float range": variant(messaging__msgs_last_day=float("inf")),
        "surrogate account id": variant(account_id="acc-\ud800"),
        "surrogate unknown field": variant(upstream_note="x\udc00y"),
        "nested unknown field": variant(upstream_tree=nested(300)),
        "nul account id": variant(account_id="acc-\x00-1"),
        "nul business name": variant(business={"name": "Reach\x00 Media"}),
        "surrogate business name": variant(business={"name": "Reach \ud83d Media"}),
    }


def decoded(kwargs: dict[str, Any]) -> Any:
    """What a worker gets from a body that Celery's default (stdlib) JSON encoder wrote."""
    register_fast_json()
    body = json.dumps(kwargs)  # NaN, Infinity and "\\ud800" escapes, as the stdlib writes them
    return loads(body, "application/json", "utf-8")


def score_and_keep(session: Session, scorer: Scorer, kwargs: Any) -> Outcome:
    """The scoring body on ``kwargs``, its rejections kept as the task shell keeps them."""
    outcome = score_batch(
        session,
        ScoreAccounts.model_validate(kwargs),
        serving=lambda: (scorer, None),
        neighbours=MemoryNeighbourStore(),
        task_id="task-hostile",
        now=utcnow(),
    )
    dead_letters.store(session, "scoring.score_accounts", "task-hostile", outcome.rejected)
    session.flush()
    return outcome


def test_each_bad_value_refuses_only_its_record(session: Session, scorer: Scorer) -> None:
    good = messaging_accounts(20, seed=11)
    bad = hostile(good[0])
    kwargs = decoded({"stage": "messaging", "accounts": [*good, *bad.values()]})

    outcome = score_and_keep(session, scorer, kwargs)

    assert outcome.summary["scored"] == 20
    assert decided_count(session) == 20
    reasons = {r.record_index or 0: r.reason for r in outcome.rejected}
    assert sorted(reasons) == list(range(20, 20 + len(bad)))
    by_kind = dict(zip(bad, (reasons[i] for i in sorted(reasons)), strict=True))
    assert "finite" in by_kind["nan ratio"]
    assert "finite" in by_kind["infinite cv"]
    assert "msgs_last_day" in by_kind["count beyond float range"]
    assert "unicode" in by_kind["surrogate account id"].lower()
    assert "surrogates not allowed" in by_kind["surrogate unknown field"]
    assert "recursion" in by_kind["nested unknown field"].lower()
    assert "NUL" in by_kind["nul account id"]
    assert "NUL" in by_kind["nul business name"]
    assert "unicode" in by_kind["surrogate business name"].lower()
    # Kept, storable on either database, and whole for replay.
    letters = session.scalars(select(DeadLetter).order_by(DeadLetter.record_index)).all()
    assert len(letters) == len(bad)
    assert all(letter.body is not None for letter in letters)
    assert "\x00" not in "".join((letter.account_id or "") + letter.payload for letter in letters)


@pytest.mark.parametrize(
    "field", [("title", "Reach\x00"), ("title", "Reach\ud800"), ("publisher", "P\x00")]
)
def test_a_bad_document_value_refuses_only_its_document(
    session: Session, field: tuple[str, str]
) -> None:
    name, value = field
    base = {"observed_at": "2020-02-01T10:00:00+00:00", "text": "We send bulk messages."}
    kwargs = decoded({"documents": [base, {**base, name: value}, {**base, "text": "Again."}]})

    outcome = ingest_documents(session, IngestEvidence.model_validate(kwargs), now=utcnow())
    dead_letters.store(session, "evidence.ingest", "task-doc", outcome.rejected)
    session.flush()

    assert [r.record_index for r in outcome.rejected] == [1]
    assert outcome.summary == {"ingested": 2, "rejected": 1}


# Any JSON value a client could send, and the ones only a stdlib-JSON client can.
_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(["\x00", "\ud800", "a\udc00b", "+421905123456", "", "x" * 400]),
)
_VALUES = st.recursive(
    _LEAVES,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def _spoiled(draw: st.DrawFn, good: dict[str, Any]) -> dict[str, Any]:
    record: dict[str, Any] = json.loads(json.dumps(good))
    target = record
    while True:
        key = draw(st.sampled_from(sorted(target)))
        if isinstance(target[key], dict) and draw(st.booleans()):
            target = target[key]
            continue
        break
    if draw(st.booleans()):
        target[key] = draw(_VALUES)
    elif draw(st.booleans()):
        del target[key]
    else:
        target[draw(st.text(min_size=1, max_size=8))] = draw(_VALUES)  # an unknown field
    return record


_GOOD = messaging_accounts(12, seed=21)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_any_body_scores_or_refuses_every_record_and_nothing_else(
    session: Session, scorer: Scorer, data: st.DataObject
) -> None:
    spoiled = [data.draw(_spoiled(good)) for good in _GOOD[:8]]
    kwargs = decoded({"stage": "messaging", "accounts": [*_GOOD[8:], *spoiled]})

    with session.begin_nested() as savepoint:
        outcome = score_and_keep(session, scorer, kwargs)
        savepoint.rollback()

    rejected = sorted(r.record_index for r in outcome.rejected if r.record_index is not None)
    assert outcome.summary["scored"] + len(rejected) == 12
    assert set(range(4)).isdisjoint(rejected)  # the untouched records are always scored
    assert all(r.reason for r in outcome.rejected)


def test_a_batch_encodes_to_the_same_bytes_whole_or_record_by_record() -> None:
    # The snapshot's content hash makes a redelivered batch one snapshot: an all-valid batch,
    # encoded in one call, must give the bytes its records give one by one, and a record that
    # cannot be encoded is refused alone, null at its index.
    accounts = messaging_accounts(20)
    whole, refused = encode_records(accounts, range(20))
    assert refused == []
    assert whole.raw == b"[" + b",".join(orjson.dumps(a) for a in accounts) + b"]"
    assert whole.positions == list(range(20))
    hostile = [*accounts[:5], {**accounts[5], "upstream_note": "x\udc00y"}, *accounts[6:]]
    kept, refused = encode_records(hostile, range(20))
    assert [position for position, _ in refused] == [5]
    assert kept.positions == [i for i in range(20) if i != 5]
    assert orjson.loads(kept.raw)[5] is None
    assert orjson.loads(kept.raw)[6] == accounts[6]


def test_snapshots_of_either_compression_read_back() -> None:
    # Snapshots are zstd now; those earlier releases wrote with zlib must still be readable.
    raw = orjson.dumps(messaging_accounts(5))
    assert decompress_records(compress_records(raw)) == raw
    assert decompress_records(zlib.compress(raw, 1)) == raw
