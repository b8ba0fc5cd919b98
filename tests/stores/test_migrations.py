"""Migrations build the schema the models declare, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from infra.db.migrate import downgrade, upgrade
from infra.db.models import (
    Base,
    EnforcementAction,
)


def test_migrations_build_the_schema_the_models_declare(database_url: str) -> None:
    # database_url is migrated to head: any difference means a model change without migration.
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
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
