"""Inserts that skip rows whose natural key is taken: how every effect stays idempotent.

``insert_ignore`` is ``INSERT ... ON CONFLICT DO NOTHING`` on SQLite and PostgreSQL alike;
``insert_ignore_select`` adds the usual second half, reading back the stored rows of the keys
inserted (new or already there); ``prepare_insert_ignore`` is the same statement for thousands
of rows on the scoring path, compiled once per process and run with the driver's executemany.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Dialect, Insert, Table, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.types import TypeEngine


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


def insert_new(
    session: Session, model: type[DeclarativeBase], rows: Sequence[Mapping[str, Any]]
) -> list[Any]:
    """Insert ``rows``, skipping those a unique key refuses, and return the new rows only:
    what this call inserted, not what a concurrent or earlier run did (``RETURNING`` on both
    PostgreSQL and SQLite 3.35+), in insertion order."""
    if not rows:
        return []
    table = model.__table__
    assert isinstance(table, Table)
    (key,) = table.primary_key.columns
    ids = session.scalars(insert_ignore(session, model).returning(key), list(rows)).all()
    if not ids:
        return []
    return list(session.scalars(select(model).where(key.in_(ids)).order_by(key)))


def insert_ignore_select(
    session: Session,
    model: type[DeclarativeBase],
    rows: Sequence[Mapping[str, Any]],
    key: str | tuple[str, ...],
    returning: Any = None,
) -> list[Any]:
    """Insert ``rows`` (skipping those whose ``key`` is taken), then read back the stored rows
    of their keys, new or already there: whole objects, or the ``returning`` column."""
    if not rows:
        return []
    session.execute(insert_ignore(session, model), list(rows))
    names = (key,) if isinstance(key, str) else key
    columns = [getattr(model, name) for name in names]
    wanted = [tuple(row[name] for name in names) for row in rows]
    condition = (
        columns[0].in_([w[0] for w in wanted])
        if len(columns) == 1
        else tuple_(*columns).in_(wanted)
    )
    # In insertion order (by primary key), so that what follows from the rows is reproducible.
    table = model.__table__
    assert isinstance(table, Table)
    order = list(table.primary_key.columns)
    query = select(model if returning is None else returning).where(condition).order_by(*order)
    return list(session.scalars(query))


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
