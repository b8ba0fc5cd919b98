"""Idempotent inserts on SQLite and PostgreSQL: the bulk path stores what the ORM stores."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from infra.db.inserts import prepare_insert_ignore
from infra.db.models import (
    AuditEvent,
    Score,
    SignalSnapshot,
)
from infra.db.session import make_engine, session_scope
from tasks.scoring.snapshot import SCORE_COLUMNS
from tests.seed import WHEN, enforced

PHONE = "+421905111222"


def test_bulk_inserts_store_what_the_orm_stores(env: dict[str, str]) -> None:
    enforced("active", [])
    with session_scope() as session:
        snapshot_id = session.scalar(select(SignalSnapshot.id))
        later = WHEN + dt.timedelta(hours=1, microseconds=5)
        rows: list[tuple[object, ...]] = [
            (
                snapshot_id,
                0,
                "acc-1",
                "messaging",
                WHEN,
                "m-b",
                False,
                0.25,
                "allow",
                None,
                None,
                WHEN,
            ),
            (
                snapshot_id,
                1,
                "acc-1",
                "messaging",
                later,
                "m-b",
                True,
                0.75,
                "ban",
                [1.5, None],
                [],
                WHEN,
            ),
        ]
        prepared = prepare_insert_ignore(session, Score, SCORE_COLUMNS, rows)
        prepared.execute(session)
        prepared.execute(session)  # a redelivery: ignored
    with session_scope() as session:
        stored = session.scalars(select(Score).order_by(Score.position)).all()
        got = [tuple(getattr(s, c) for c in SCORE_COLUMNS) for s in stored]
    assert got == rows
    assert stored[1].observed_at.tzinfo is not None


def test_a_prepared_insert_takes_an_id_known_only_when_writing(env: dict[str, str]) -> None:
    enforced("active", [])
    with session_scope() as session:
        snapshot_id = session.scalar(select(SignalSnapshot.id))
        row = (None, 0, "acc-1", "feedback", WHEN, "m-c", False, 0.5, "allow", None, None, WHEN)
        prepare_insert_ignore(session, Score, SCORE_COLUMNS, [row]).execute(
            session, snapshot_id=snapshot_id
        )
    with session_scope() as session:
        assert session.scalar(select(Score.snapshot_id).where(Score.model_version == "m-c")) == (
            snapshot_id
        )


def test_bulk_inserts_need_every_column_with_a_python_default(env: dict[str, str]) -> None:
    without_default = tuple(c for c in SCORE_COLUMNS if c != "created_at")
    with session_scope() as session, pytest.raises(ValueError, match="created_at"):
        prepare_insert_ignore(session, Score, without_default, [(1,) * len(without_default)])


def test_json_columns_take_what_orjson_refuses(env: dict[str, str]) -> None:
    # Dead-lettered input may hold integers beyond 64 bits; the standard library stores them.
    with session_scope() as session:
        session.add(
            AuditEvent(entity="test", entity_id=1, event="big", actor="t", details={"n": 2**70})
        )
    with session_scope() as session:
        stored = session.scalar(select(AuditEvent.details).where(AuditEvent.event == "big"))
    assert stored == {"n": 2**70}


def test_database_errors_never_carry_their_parameters(database_url: str) -> None:
    # Error messages reach logs, retry lines and dead-letter reasons; parameters hold numbers.
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection, pytest.raises(DBAPIError) as raised:
            connection.execute(text("SELECT * FROM no_such_table WHERE x = :p"), {"p": PHONE})
        assert PHONE not in str(raised.value)
    finally:
        engine.dispose()
