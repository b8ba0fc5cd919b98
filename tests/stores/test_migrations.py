"""Migrations build the schema the models declare, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from infra.db.models import (
    Base,
)


def test_migrations_build_the_schema_the_models_declare(database_url: str) -> None:
    # database_url is migrated to head: any difference means a model change without migration.
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    finally:
        engine.dispose()
