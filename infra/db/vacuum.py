"""Making deleted rows unreadable on disk: a database keeps deleted rows' bytes in free pages
(SQLite) or dead tuples (PostgreSQL) until it reclaims them. An erasure reclaims them at once."""

from __future__ import annotations

from infra.db.session import get_engine


def reclaim() -> None:
    """``VACUUM`` the database, outside any transaction. On SQLite it rewrites the file (and
    empties the write-ahead log at the next checkpoint); on PostgreSQL it marks the dead tuples'
    space free for reuse (their bytes go when it is reused; ``VACUUM FULL`` rewrites the tables,
    at the cost of a lock an operator chooses the time for)."""
    engine = get_engine()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM")
        if engine.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
