"""PostgreSQL's monthly partitions: built by migration 0021 with the rows already there, undone
by its downgrade, made ahead of the writes, and unique keys that still refuse a redelivery."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from infra.db.inserts import insert_ignore
from infra.db.migrate import downgrade, upgrade
from infra.db.models import AccountDecision, DecisionBatch, SignalSnapshot
from infra.db.partitions import (
    AHEAD_MONTHS,
    PARTITIONED,
    Month,
    claim_snapshot,
    claimed_snapshot,
    ensure_partitions,
)

DECEMBER = dt.datetime(2025, 12, 31, 23, 59, 59, tzinfo=dt.UTC)
JANUARY = dt.datetime(2026, 1, 1, 0, 0, 1, tzinfo=dt.UTC)


@pytest.fixture
def engine(postgres_database: str) -> Engine:
    return create_engine(postgres_database)


def _partitioned(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(
            connection.scalars(
                text(
                    "SELECT c.relname FROM pg_partitioned_table p "
                    "JOIN pg_class c ON c.oid = p.partrelid"
                )
            )
        )


def _partitions(engine: Engine, table: str) -> set[str]:
    with engine.connect() as connection:
        return set(
            connection.scalars(
                text(
                    "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                    "WHERE i.inhparent = CAST(:t AS regclass)"
                ),
                {"t": table},
            )
        )


def _seed(engine: Engine) -> None:
    """Two batches under the schema before partitions, in December and January, each with its
    decisions, index entries and an actioned score."""
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO accounts (account_id, phone, phone_block, status, first_seen_at) "
                "VALUES ('a1', '+421905123456', '+421905123', 'active', :at)"
            ),
            {"at": DECEMBER},
        )
        for snapshot_id, at in ((1, DECEMBER), (2, JANUARY)):
            connection.execute(
                text(
                    "INSERT INTO signal_snapshots (id, content_hash, stage, record_count, "
                    "records, received_at) VALUES (:id, :h, 'messaging', 1, 'x', :at)"
                ),
                {"id": snapshot_id, "h": f"h{snapshot_id}", "at": at},
            )
            connection.execute(
                text(
                    "INSERT INTO decision_batches (snapshot_id, model_version, shadow, stage, "
                    "allowed, reviewed, restricted, banned, scores, decisions, created_at) "
                    "VALUES (:id, 'm', false, 'messaging', 0, 0, 0, 1, 'x', 'x', :at)"
                ),
                {"id": snapshot_id, "at": at},
            )
            connection.execute(
                text("INSERT INTO account_decisions VALUES ('a1', :id, 0)"), {"id": snapshot_id}
            )
            connection.execute(
                text(
                    "INSERT INTO scores (snapshot_id, position, account_id, stage, observed_at, "
                    "model_version, shadow, score, decision, created_at) VALUES "
                    "(:id, 0, 'a1', 'messaging', :at, 'm', false, 0.9, 'ban', :at)"
                ),
                {"id": snapshot_id, "at": at},
            )
        connection.execute(text("SELECT setval('signal_snapshots_id_seq', 2)"))


def _rows(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as connection:
        return [
            tuple(row)
            for row in connection.execute(
                text(
                    "SELECT s.id, s.content_hash, s.received_at, b.model_version, d.account_id, "
                    "c.id FROM signal_snapshots s JOIN decision_batches b ON b.snapshot_id = s.id "
                    "JOIN account_decisions d ON d.snapshot_id = s.id "
                    "JOIN scores c ON c.snapshot_id = s.id ORDER BY s.id"
                )
            )
        ]


def test_the_migration_partitions_the_rows_there_and_its_downgrade_undoes_it(
    postgres_database: str, engine: Engine
) -> None:
    upgrade(postgres_database, "0020")
    _seed(engine)
    before = _rows(engine)

    upgrade(postgres_database)
    assert _partitioned(engine) == set(PARTITIONED)
    assert _rows(engine) == before
    this_month = Month.of(dt.datetime.now(dt.UTC))
    for table in PARTITIONED:
        months = [Month.of(DECEMBER), Month.of(JANUARY), this_month]
        for _ in range(AHEAD_MONTHS):
            months.append(months[-1].next())
        assert {m.name(table) for m in months} | {f"{table}_default"} <= _partitions(engine, table)
    with engine.connect() as connection:
        # Each row is in its snapshot's month, and every snapshot has its content key.
        where = connection.execute(
            text(
                "SELECT s.id, s.tableoid::regclass::text, b.tableoid::regclass::text, "
                "d.tableoid::regclass::text, b.received_at = s.received_at, "
                "d.received_at = s.received_at FROM signal_snapshots s "
                "JOIN decision_batches b ON b.snapshot_id = s.id "
                "JOIN account_decisions d ON d.snapshot_id = s.id ORDER BY s.id"
            )
        ).all()
        assert [tuple(row) for row in where] == [
            (i, *(Month.of(at).name(t) for t in PARTITIONED), True, True)
            for i, at in ((1, DECEMBER), (2, JANUARY))
        ]
        keys = connection.execute(text("SELECT content_hash, snapshot_id FROM snapshot_keys"))
        assert sorted(tuple(row) for row in keys) == [("h1", 1), ("h2", 2)]

    downgrade(postgres_database, "0020")
    assert _partitioned(engine) == set()
    assert _rows(engine) == before
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT to_regclass('snapshot_keys')")) is None
        # The keys of the schema before: one snapshot per content hash, numbered on.
        with pytest.raises(IntegrityError):
            connection.execute(
                text(
                    "INSERT INTO signal_snapshots (content_hash, stage, record_count, records, "
                    "received_at) VALUES ('h1', 'messaging', 1, 'x', now())"
                )
            )
    upgrade(postgres_database)
    assert _rows(engine) == before
    engine.dispose()


def test_partitions_are_made_ahead_and_never_over_rows_in_the_default(
    postgres_database: str, engine: Engine
) -> None:
    upgrade(postgres_database)
    far = Month.of(dt.datetime.now(dt.UTC))
    for _ in range(AHEAD_MONTHS + 2):
        far = far.next()
    with Session(engine) as session:
        # A write that outran the partitions lands in the default partition.
        session.execute(
            text(
                "INSERT INTO signal_snapshots (content_hash, stage, record_count, records, "
                "received_at) VALUES ('late', 'messaging', 1, 'x', :at)"
            ),
            {"at": far.start},
        )
        made = ensure_partitions(session, far.start)
        assert far.name("signal_snapshots") not in made  # its rows stay in the default
        assert far.next().name("signal_snapshots") in made
        assert ensure_partitions(session, far.start) == []
        session.commit()
    assert "signal_snapshots_default" in _partitions(engine, "signal_snapshots")
    engine.dispose()


def test_a_batch_delivered_again_in_the_next_month_finds_its_snapshot(
    postgres_database: str, engine: Engine
) -> None:
    # The partition key is in every unique key of the partitioned tables: the content key, and
    # the snapshot's received_at copied into its rows, keep a redelivery to the first rows.
    upgrade(postgres_database)
    with Session(engine) as session:
        ensure_partitions(session, DECEMBER, ahead=1)
        row = {
            "content_hash": "same",
            "stage": "messaging",
            "task_id": None,
            "record_count": 1,
            "records": b"x",
        }
        first = claim_snapshot(session, {**row, "received_at": DECEMBER})
        assert first is not None
        assert claim_snapshot(session, {**row, "received_at": JANUARY}) is None
        assert claimed_snapshot(session, "same") == first
        snapshot_id, received_at = first
        session.execute(
            text(
                "INSERT INTO accounts (account_id, phone_block, status, first_seen_at) "
                "VALUES ('a1', '+421905123', 'active', now())"
            )
        )
        batch = {
            "snapshot_id": snapshot_id,
            "model_version": "m",
            "shadow": False,
            "stage": "messaging",
            "allowed": 1,
            "reviewed": 0,
            "restricted": 0,
            "banned": 0,
            "scores": b"",
            "decisions": b"",
            "received_at": received_at,
        }
        entry = {"account_id": "a1", "snapshot_id": snapshot_id, "position": 0}
        for _ in range(2):
            session.execute(insert_ignore(session, DecisionBatch), [batch])
            session.execute(
                insert_ignore(session, AccountDecision), [{**entry, "received_at": received_at}]
            )
        assert session.scalar(select(SignalSnapshot.received_at)) == DECEMBER
        assert len(session.scalars(select(SignalSnapshot.id)).all()) == 1
        assert len(session.scalars(select(DecisionBatch.id)).all()) == 1
        assert len(session.scalars(select(AccountDecision.position)).all()) == 1
        session.commit()
        # The key itself refuses a second snapshot of the same content, whatever its month.
        with pytest.raises(IntegrityError):
            session.execute(
                text("INSERT INTO snapshot_keys VALUES ('same', :id, :at)"),
                {"id": snapshot_id, "at": JANUARY},
            )
    engine.dispose()
