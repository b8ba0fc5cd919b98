"""PostgreSQL's monthly partitions of the large time-ordered tables.

On PostgreSQL, ``signal_snapshots``, ``decision_batches`` and ``account_decisions`` are
partitioned by range of ``received_at`` (the snapshot's; the other two carry a copy), one
partition a month, so that retention drops a month of them at once instead of deleting its rows.
SQLite keeps them as plain tables. Migration 0021 builds the layout; this module creates the
partitions ahead of the writes, lists them, drops one, and keeps the snapshots' content hashes
unique across partitions (``snapshot_keys``: PostgreSQL's unique keys on a partitioned table
must hold the partition key, and a redelivered batch comes at another time than the first).

Every partition table is named ``{table}_y{YYYY}m{MM}``; ``{table}_default`` takes a row whose
month has no partition (none was created in time): retention deletes those rows in chunks, as on
SQLite, and no partition is made later for a month that has rows there.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

# The snapshots' table first: the other two refer to it.
PARTITIONED = ("signal_snapshots", "decision_batches", "account_decisions")
# Months created ahead of the current one. Retention runs daily and creates them too: three
# months leave time to notice a beat that stopped before a write finds no partition.
AHEAD_MONTHS = 3
# How long dropping a partition waits for the tables' locks before leaving it for the next run:
# a DETACH queues behind a long read, and every write to the table would queue behind it.
LOCK_TIMEOUT = "2s"
SNAPSHOT_KEYS = "snapshot_keys"
_NAME = re.compile(r"^(?P<table>[a-z_]+)_(?:y(?P<year>\d{4})m(?P<month>\d{2})|default)$")


@dataclass(frozen=True, order=True)
class Month:
    """One month's partitions: rows with ``start <= received_at < end``."""

    start: dt.datetime
    end: dt.datetime

    @classmethod
    def of(cls, moment: dt.datetime) -> Month:
        start = moment.astimezone(dt.UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        return cls(start, _add_month(start))

    def next(self) -> Month:
        return Month(self.end, _add_month(self.end))

    def name(self, table: str) -> str:
        return f"{table}_y{self.start:%Y}m{self.start:%m}"


def _add_month(start: dt.datetime) -> dt.datetime:
    return start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)


def is_partitioned(bind: Session | Connection) -> bool:
    """Whether this database partitions the time-ordered tables (PostgreSQL does)."""
    engine = bind.get_bind() if isinstance(bind, Session) else bind
    return engine.dialect.name == "postgresql"


def ensure_partitions(
    connection: Connection | Session,
    now: dt.datetime,
    *,
    since: dt.datetime | None = None,
    ahead: int = AHEAD_MONTHS,
    lock_timeout: str | None = LOCK_TIMEOUT,
) -> list[str]:
    """Create the missing partitions of every month from ``since`` (default: ``now``) to
    ``ahead`` months after ``now``, and the default partitions; the tables created. A month with
    rows in a default partition gets none (PostgreSQL refuses it): its rows stay there.

    Creating a partition locks its table for a moment; one that waits past ``lock_timeout``
    raises OperationalError rather than queue every write behind it (None: the transaction's
    own setting, for a migration that holds the tables already)."""
    month, last = Month.of(since or now), Month.of(now)
    for _ in range(ahead):
        last = last.next()
    if lock_timeout is not None:
        connection.execute(text(f"SET LOCAL lock_timeout = '{lock_timeout}'"))
    created = []
    for table in PARTITIONED:
        default = f"{table}_default"
        if not _exists(connection, default):
            connection.execute(
                text(f"CREATE TABLE IF NOT EXISTS {default} PARTITION OF {table} DEFAULT")
            )
            created.append(default)
    while month <= last:
        for table in PARTITIONED:
            name = month.name(table)
            if _exists(connection, name) or _in_default(connection, table, month):
                continue
            connection.execute(
                text(
                    f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF {table} "
                    f"FOR VALUES FROM ('{month.start.isoformat()}') TO ('{month.end.isoformat()}')"
                )
            )
            created.append(name)
        month = month.next()
    return created


def _exists(connection: Connection | Session, name: str) -> bool:
    return bool(connection.scalar(text("SELECT to_regclass(:name) IS NOT NULL"), {"name": name}))


def _in_default(connection: Connection | Session, table: str, month: Month) -> bool:
    query = text(
        f"SELECT EXISTS (SELECT FROM {table}_default "  # noqa: S608 - a name of PARTITIONED
        "WHERE received_at >= :start AND received_at < :end)"
    )
    return bool(connection.scalar(query, {"start": month.start, "end": month.end}))


def months(connection: Connection | Session) -> list[Month]:
    """The months that have a snapshots partition, oldest first."""
    names = connection.scalars(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'signal_snapshots'::regclass"
        )
    )
    found = []
    for name in names:
        match = _NAME.match(name)
        if match and match["year"]:
            start = dt.datetime(int(match["year"]), int(match["month"]), 1, tzinfo=dt.UTC)
            found.append(Month.of(start))
    return sorted(found)


def forget_keys(session: Session, month: Month, limit: int) -> int:
    """Delete up to ``limit`` content keys of the month's snapshots (before the month is
    dropped: a partition that rows refer to cannot be detached); how many."""
    result = session.execute(
        text(
            f"DELETE FROM {SNAPSHOT_KEYS} WHERE content_hash IN ("  # noqa: S608 - a constant
            f"SELECT content_hash FROM {SNAPSHOT_KEYS} "
            "WHERE received_at >= :start AND received_at < :end LIMIT :limit)"
        ),
        {"start": month.start, "end": month.end, "limit": limit},
    )
    return int(getattr(result, "rowcount", 0) or 0)


def lock_month(session: Session, month: Month) -> None:
    """Lock the month's partitions against writes until the transaction ends, waiting
    ``LOCK_TIMEOUT`` at most (then OperationalError): what is counted is what is dropped."""
    session.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
    names = [month.name(table) for table in reversed(PARTITIONED)]
    present = [name for name in names if _exists(session, name)]
    if present:
        session.execute(text(f"LOCK TABLE {', '.join(present)} IN SHARE ROW EXCLUSIVE MODE"))


def drop_month(session: Session, month: Month) -> None:
    """Detach and drop one month's partitions of every partitioned table, in the caller's
    transaction: the tables that refer to the snapshots first (a partition that rows refer to
    cannot be detached)."""
    for table in reversed(PARTITIONED):
        name = month.name(table)
        if _exists(session, name):
            session.execute(text(f"ALTER TABLE {table} DETACH PARTITION {name}"))
            session.execute(text(f"DROP TABLE {name}"))


def claim_snapshot(session: Session, row: dict[str, Any]) -> tuple[int, dt.datetime] | None:
    """Insert a new snapshot (``row``: its columns but the id) with its content
    hash's key, in one statement; its id and ``received_at``, or None when the hash is taken.

    ``snapshot_keys`` holds one row per snapshot, keyed by the content hash alone: the unique
    key that the partitioned table cannot hold. A concurrent delivery of the same batch waits on
    that key until the first commits, then inserts nothing."""
    found = session.execute(
        text(
            "WITH claimed AS ("
            " INSERT INTO snapshot_keys (content_hash, snapshot_id, received_at)"
            " VALUES (:content_hash, nextval('signal_snapshots_id_seq'), :received_at)"
            " ON CONFLICT (content_hash) DO NOTHING RETURNING snapshot_id, received_at)"
            " INSERT INTO signal_snapshots"
            " (id, received_at, content_hash, stage, task_id, record_count, records)"
            " SELECT snapshot_id, received_at, :content_hash, :stage, :task_id, :record_count,"
            " :records FROM claimed RETURNING id, received_at"
        ),
        row,
    ).one_or_none()
    return None if found is None else (found[0], found[1])


def claimed_snapshot(session: Session, content_hash: str) -> tuple[int, dt.datetime]:
    """The id and ``received_at`` of the snapshot that holds ``content_hash``."""
    found = session.execute(
        text(
            f"SELECT snapshot_id, received_at FROM {SNAPSHOT_KEYS} "  # noqa: S608 - a constant
            "WHERE content_hash = :h"
        ),
        {"h": content_hash},
    ).one()
    return found[0], found[1]


def comparable(dialect: str) -> Callable[[Any, str | None, str, bool, Any], bool]:
    """An Alembic ``include_object`` that compares the models with what ``dialect`` holds: the
    constraints the models declare for another dialect only (``ddl_if``) are left out, and so,
    on PostgreSQL, are the partitions, ``snapshot_keys`` and the nullability of the copied
    partition key (NOT NULL there, as every primary key's column; empty on SQLite)."""

    def include(obj: Any, name: str | None, type_: str, reflected: bool, _to: Any) -> bool:
        condition = getattr(obj, "_ddl_if", None)
        if not reflected and condition is not None and condition.dialect not in (None, dialect):
            return False
        if dialect != "postgresql":
            return True
        if type_ == "table" and name is not None:
            return not (name == SNAPSHOT_KEYS or _is_partition(name))
        if type_ == "foreign_key_constraint" and reflected:
            # PostgreSQL keeps a copy of a key to a partitioned table for each partition.
            return not _is_partition(obj.referred_table.name)
        if type_ == "column" and name == "received_at":
            return obj.table.name not in PARTITIONED[1:]
        return True

    return include


def _is_partition(name: str) -> bool:
    match = _NAME.match(name)
    return match is not None and match["table"] in PARTITIONED
