"""Alembic environment: the database URL comes from bulkguard's settings, never from the ini."""

from __future__ import annotations

from alembic import context

from infra.db.models import Base
from infra.db.partitions import comparable
from infra.db.session import make_engine
from infra.settings import get_settings

config = context.config
url = config.attributes.get("url") or get_settings().resolved_database_url


def run_migrations_offline() -> None:
    context.configure(url=url, target_metadata=Base.metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(url, pooled=False)
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # A batch rebuild drops and recreates a table that others reference; SQLite checks
            # references on DROP, so they are checked once at the end instead.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()  # the pragma is refused inside a transaction
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            # What the models declare for one database only is compared on that one.
            include_object=comparable(connection.dialect.name),
            # SQLite cannot ALTER most things in place; batch mode rebuilds tables instead.
            render_as_batch=sqlite,
        )
        with context.begin_transaction():
            context.run_migrations()
            if sqlite and (broken := connection.exec_driver_sql("PRAGMA foreign_key_check").all()):
                raise RuntimeError(f"migration left broken references: {broken[:5]}")
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
