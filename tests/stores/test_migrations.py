"""Migrations build the schema the models declare, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import orjson
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from infra.db.migrate import downgrade, upgrade
from infra.db.models import Base, DecisionBatch, EnforcementAction, Score, UTCDateTime
from infra.db.partitions import comparable
from tasks.scoring.decisions import Decided, decisions_at, decisions_of
from tasks.scoring.snapshot import compress_records


def test_migrations_build_the_schema_the_models_declare(database_url: str) -> None:
    # database_url is migrated to head: any difference means a model change without migration.
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"include_object": comparable(connection.dialect.name)}
            )
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_restrictions_from_before_terms_get_one(database_url: str) -> None:
    # Back to the schema before terms, with an open-ended restriction in force, then forward.
    downgrade(database_url, "0008")
    made = dt.datetime(2026, 1, 5, 9, 30, tzinfo=dt.UTC)
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO accounts (account_id, phone, phone_block, status, first_seen_at) "
                    "VALUES ('a1', '+421905123456', '+421905123', 'restricted', :at)"
                ),
                {"at": made},
            )
            connection.execute(
                text(
                    "INSERT INTO signal_snapshots (id, content_hash, stage, record_count, "
                    "records, received_at) VALUES (1, 'h', 'messaging', 1, :b, :at)"
                ),
                {"b": b"x", "at": made},
            )
            connection.execute(
                text(
                    "INSERT INTO scores (id, snapshot_id, position, account_id, stage, "
                    "observed_at, model_version, shadow, score, decision, created_at) VALUES "
                    "(1, 1, 0, 'a1', 'messaging', :at, 'm', false, 0.9, 'restrict', :at)"
                ),
                {"at": made},
            )
            connection.execute(
                text(
                    "INSERT INTO enforcement_actions (id, account_id, score_id, action, status, "
                    "model_version, score, policy_version, actor, created_at) VALUES "
                    "(1, 'a1', 1, 'restrict', 'active', 'm', 0.9, 'p', 'classifier', :at)"
                ),
                {"at": made},
            )
        upgrade(database_url)
        with Session(engine) as session:
            action = session.get_one(EnforcementAction, 1)
            assert action.expires_at == made + dt.timedelta(days=1)
    finally:
        engine.dispose()


def test_scores_become_compact_decisions_and_back(database_url: str) -> None:
    # Two accounts scored in one batch under the per-score schema: one allowed, one banned.
    downgrade(database_url, "0012")
    made = dt.datetime(2026, 1, 5, 9, 30, tzinfo=dt.UTC)
    seen = [made - dt.timedelta(minutes=1), made - dt.timedelta(minutes=2)]
    records = orjson.dumps(
        [
            # As a client may write it: scoring reads a lower-case "z" too.
            {"account_id": "a1", "observed_at": f"{seen[0]:%Y-%m-%dT%H:%M:%S}z"},
            None,  # a refused record keeps its place
            {"account_id": "a2", "observed_at": seen[1].isoformat()},
        ]
    )
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            for account in ("a1", "a2"):
                connection.execute(
                    text(
                        "INSERT INTO accounts (account_id, phone, phone_block, status, "
                        "first_seen_at) VALUES (:a, '+421905123456', '+421905123', 'active', :at)"
                    ),
                    {"a": account, "at": made},
                )
            connection.execute(
                text(
                    "INSERT INTO signal_snapshots (id, content_hash, stage, record_count, "
                    "records, received_at) VALUES (1, 'h', 'messaging', 3, :b, :at)"
                ),
                {"b": compress_records(records), "at": made},
            )
            for score_id, position, account, score, decision in (
                (1, 0, "a1", 0.25, "allow"),
                (2, 2, "a2", 0.75, "ban"),
            ):
                connection.execute(
                    text(
                        "INSERT INTO scores (id, snapshot_id, position, account_id, stage, "
                        "observed_at, model_version, shadow, score, decision, created_at) VALUES "
                        "(:id, 1, :p, :a, 'messaging', :o, 'm', false, :s, :d, :at)"
                    ),
                    {
                        "id": score_id,
                        "p": position,
                        "a": account,
                        "o": seen[position // 2],
                        "s": score,
                        "d": decision,
                        "at": made,
                    },
                )
        upgrade(database_url)
        with Session(engine) as session:
            batch = session.scalars(select(DecisionBatch)).one()
            assert (batch.model_version, batch.shadow, batch.allowed, batch.banned) == (
                "m",
                False,
                1,
                1,
            )
            assert decisions_at(session, 1, "m") == {
                0: Decided(0.25, "allow"),
                2: Decided(0.75, "ban"),
            }
            assert [d.decision for d in decisions_of(session, "a1")] == ["allow"]
            # The ban stays a score row (actions refer to it); the allow lives in the batch.
            assert session.scalars(select(Score.id)).all() == [2]
        downgrade(database_url, "0012")
        with engine.connect() as connection:
            back = connection.execute(
                text(
                    "SELECT account_id, position, score, decision, observed_at FROM scores "
                    "ORDER BY position"
                ).columns(observed_at=UTCDateTime())
            ).all()
        assert [tuple(row) for row in back] == [
            ("a1", 0, 0.25, "allow", seen[0]),
            ("a2", 2, 0.75, "ban", seen[1]),
        ]
        upgrade(database_url)
    finally:
        engine.dispose()
