"""Engines and sessions, one engine per process.

Celery's prefork pool forks workers from a parent process. A connection pool inherited across
fork shares sockets between processes, so the engine is keyed by PID: a child that finds its
parent's engine discards it without closing the parent's connections and builds its own.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from infra.settings import get_settings

# Per connection: each worker process holds one, so this is per process.
SQLITE_CACHE_KIB = 64 * 1024
SQLITE_CHECKPOINT_PAGES = 10_000

_engine: Engine | None = None
_engine_pid: int | None = None
_sessionmaker: sessionmaker[Session] | None = None


def make_engine(url: str, *, pooled: bool = True) -> Engine:
    """Build an engine with the settings bulkguard relies on for each backend.

    Statement parameters are left out of SQLAlchemy's error messages: those messages reach
    worker logs, Celery's retry lines and dead-letter reasons, and parameters carry phone
    numbers, e-mail addresses and business names.
    """
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        engine = create_engine(
            url,
            hide_parameters=True,
            # Several worker processes write to one file: wait for the lock instead of failing.
            connect_args={"timeout": 60},
            poolclass=None if pooled else NullPool,
            json_serializer=_json_text,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs: dict[str, Any] = {
        "pool_pre_ping": True,
        "json_serializer": _json_text,
        "hide_parameters": True,
    }
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
