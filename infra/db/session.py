"""Engines and sessions, one engine per process.

Celery's prefork pool forks workers from a parent process. A connection pool inherited across
fork shares sockets between processes, so the engine is keyed by PID: a child that finds its
parent's engine discards it without closing the parent's connections and builds its own.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import Dialect, Engine, Insert, Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeEngine

from infra.settings import get_settings

# Per connection: each worker process holds one, so this is per process.
SQLITE_CACHE_KIB = 64 * 1024
SQLITE_CHECKPOINT_PAGES = 10_000

_engine: Engine | None = None
_engine_pid: int | None = None
_sessionmaker: sessionmaker[Session] | None = None


def make_engine(url: str, *, pooled: bool = True) -> Engine:
    """Build an engine with the settings bulkguard relies on for each backend."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        engine = create_engine(
            url,
            # Several worker processes write to one file: wait for the lock instead of failing.
            connect_args={"timeout": 60},
            poolclass=None if pooled else NullPool,
            json_serializer=_json_text,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs: dict[str, Any] = {"pool_pre_ping": True, "json_serializer": _json_text}
    if not pooled:
        kwargs["poolclass"] = NullPool
    return create_engine(url, **kwargs)


def _json_text(document: Any) -> str:
    """JSON columns through orjson (several times faster: a scoring batch writes hundreds of
    feature rows), falling back to the standard library for what orjson refuses (integers beyond
    64 bits, non-string keys), which dead-lettered input may hold."""
    try:
        return orjson.dumps(document).decode()
    except TypeError:
        return json.dumps(document)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers (the CLI, Flower-side reports) run beside the writing workers.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=60000")
    # Scoring inserts into indexes keyed by random values (phone numbers): a 1,000-account batch
    # dirties hundreds of index pages. A larger page cache keeps them from being read back from
    # the OS on every batch, and checkpointing every ~40 MB of WAL rather than every 4 MB copies a
    # page rewritten by consecutive batches into the database once, with one fsync, instead of
    # once per batch. The WAL file is cut back to 64 MB after a checkpoint.
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cursor.execute(f"PRAGMA wal_autocheckpoint={SQLITE_CHECKPOINT_PAGES}")
    cursor.execute(f"PRAGMA journal_size_limit={64 * 1024 * 1024}")
    cursor.close()


def get_engine() -> Engine:
    """The engine of the current process, created on first use after fork."""
    global _engine, _engine_pid, _sessionmaker  # noqa: PLW0603 - the per-process singleton
    pid = os.getpid()
    if _engine is None or _engine_pid != pid:
        if _engine is not None:
            # Inherited from the parent: forget its pool without closing the parent's sockets.
            _engine.dispose(close=False)
        _engine = make_engine(get_settings().resolved_database_url)
        _engine_pid = pid
        _sessionmaker = sessionmaker(_engine, expire_on_commit=False)
    return _engine


def reset_engine() -> None:
    """Drop this process's engine (tests switch databases; workers call it after fork)."""
    global _engine, _engine_pid, _sessionmaker  # noqa: PLW0603 - the per-process singleton
    if _engine is not None and _engine_pid == os.getpid():
        _engine.dispose()
    elif _engine is not None:
        _engine.dispose(close=False)
    _engine = None
    _engine_pid = None
    _sessionmaker = None


def new_session() -> Session:
    get_engine()
    assert _sessionmaker is not None
    return _sessionmaker()


@contextmanager
def session_scope() -> Iterator[Session]:
    """One session and one explicit commit; rolled back on any error."""
    session = new_session()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def insert_ignore(session: Session, model: type[DeclarativeBase]) -> Insert:
    """INSERT that skips rows violating a unique constraint: how effects stay idempotent."""
    table = model.__table__
    assert isinstance(table, Table)
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing()
    raise NotImplementedError(f"bulkguard supports SQLite and PostgreSQL, not {dialect}")


_PROCESSORS: dict[tuple[Dialect, str], Callable[[Any], Any] | None] = {}


def _bind_processor(dialect: Dialect, type_: TypeEngine[Any]) -> Callable[[Any], Any] | None:
    """The dialect's conversion for a column type, one function per equal type, so that equal
    values in columns of equal types are converted once (see ``_convert``)."""
    key = (dialect, repr(type_))
    if key not in _PROCESSORS:
        _PROCESSORS[key] = type_.dialect_impl(dialect).bind_processor(dialect)
    return _PROCESSORS[key]


@lru_cache(maxsize=64)
def _bulk_statement(
    dialect: Dialect, table: Table, columns: tuple[str, ...]
) -> tuple[str, tuple[str, ...] | None, tuple[Callable[[Any], Any] | None, ...]]:
    """The compiled INSERT, its positional parameter order (None: named) and the columns' bind
    conversions, once per process for each table and column list."""
    insert = (
        postgresql.insert(table) if dialect.name == "postgresql" else sqlite.insert(table)
    ).on_conflict_do_nothing()
    compiled = insert.compile(dialect=dialect, column_keys=list(columns))
    processors = tuple(_bind_processor(dialect, table.c[name].type) for name in columns)
    wanted = tuple(compiled.positiontup or ()) if compiled.positional else tuple(compiled.params)
    if set(wanted) != set(columns):
        # Python-side column defaults are evaluated per row by the ORM, not here.
        raise ValueError(f"{table.name}: bulk rows need values for {sorted(wanted)}")
    return str(compiled), wanted if compiled.positional else None, processors


@dataclass(frozen=True)
class PreparedInsert:
    """Rows converted for the driver, ready for one executemany of ``INSERT ... ON CONFLICT DO
    NOTHING``: built before a transaction writes, so that the conversion does not happen while
    the transaction holds SQLite's write lock, which other worker processes wait on."""

    sql: str
    columns: tuple[str, ...]  # the driver's parameter order (positional) or the names
    positional: bool
    rows: list[tuple[Any, ...]]

    def execute(self, session: Session, **values: Any) -> None:
        """Run it; ``values`` set a column of every row (an id known only once writing began)."""
        if not self.rows:
            return
        rows = self.rows
        for name, value in values.items():
            i = self.columns.index(name)
            rows = [(*row[:i], value, *row[i + 1 :]) for row in rows]
        params: list[Any] = (
            rows if self.positional else [dict(zip(self.columns, r, strict=True)) for r in rows]
        )
        session.connection().exec_driver_sql(self.sql, params)


def prepare_insert_ignore(
    session: Session,
    model: type[DeclarativeBase],
    columns: tuple[str, ...],
    rows: list[tuple[Any, ...]],
    conversions: dict[tuple[Any, Any], Any] | None = None,
) -> PreparedInsert:
    """``insert_ignore`` for thousands of rows given as tuples in ``columns`` order.

    The same statement and the same type conversions as the ORM's, but compiled once and run
    with the driver's executemany: SQLAlchemy's per-row parameter handling costs about as much
    as the database's own insert. Each distinct value is converted once per column type;
    pass the same ``conversions`` to inserts that share values (the same times in two tables).
    """
    table = model.__table__
    assert isinstance(table, Table)
    sql, order, processors = _bulk_statement(session.get_bind().dialect, table, columns)
    converted: list[tuple[Any, ...]] = []
    if rows:
        by_column = zip(processors, zip(*rows, strict=True), strict=True)
        memo = {} if conversions is None else conversions
        converted = list(zip(*(_convert(p, values, memo) for p, values in by_column), strict=True))
    if order is None:  # named placeholders (psycopg)
        return PreparedInsert(sql, columns, positional=False, rows=converted)
    if order != columns:
        position = [columns.index(name) for name in order]
        converted = [tuple(row[i] for i in position) for row in converted]
    return PreparedInsert(sql, order, positional=True, rows=converted)


def _convert(
    processor: Callable[[Any], Any] | None,
    values: tuple[Any, ...],
    memo: dict[tuple[Any, Any], Any],
) -> list[Any]:
    """One column's values as the driver takes them; None stays None, as every bind conversion
    leaves it, and a value seen before (one creation time for all rows) is not converted again."""
    if processor is None:
        return list(values)
    out: list[Any] = []
    for value in values:
        if value is None:
            out.append(None)
        elif isinstance(value, list | dict):  # JSON documents: unhashable, converted each
            out.append(processor(value))
        else:
            key = (processor, value)
            if key not in memo:
                memo[key] = processor(value)
            out.append(memo[key])
    return out
