"""Bulk writes for large imports, below the ORM and Core's per-row overhead.

The column types' own bind processors (the same conversions SQLAlchemy applies: dates to
SQLite text, aware datetimes to naive UTC) are looked up once per column and applied in a
plain loop, once per distinct value; rows then go to the driver in one ``executemany``
(SQLite) or one ``COPY ... FROM STDIN`` stream (PostgreSQL through psycopg 3).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa

_UNHASHABLE = (list, dict, set)


def table(model: type[Any]) -> sa.Table:
    """The Core table of a SQLModel table class."""
    result: sa.Table = model.__table__
    return result


def _processors(table: sa.Table, columns: Sequence[str], dialect: sa.Dialect) -> list[Any]:
    procs: list[Callable[[Any], Any] | None] = []
    for name in columns:
        col_type = table.c[name].type
        procs.append(col_type.dialect_impl(dialect).bind_processor(dialect))
    return procs


def insert_rows(conn: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> int:
    """INSERT ``rows`` (dicts with the same keys) into ``table``; return how many."""
    if not rows:
        return 0
    columns = list(rows[0])
    dialect = conn.dialect
    procs = _processors(table, columns, dialect)
    active = [(i, p) for i, p in enumerate(procs) if p is not None]
    # Imports repeat values (timestamps, dates, codes): convert each distinct one once.
    memos: list[dict[Any, Any]] = [{} for _ in active]
    tuples: list[tuple[Any, ...]] = []
    for row in rows:
        values = [row[c] for c in columns]
        for (i, proc), memo in zip(active, memos, strict=True):
            value = values[i]
            if value is None:
                continue
            if value.__class__ in _UNHASHABLE:
                values[i] = proc(value)
                continue
            converted = memo.get(value, memo)
            if converted is memo:
                converted = memo[value] = proc(value)
            values[i] = converted
        tuples.append(tuple(values))
    return write_tuples(conn, table, columns, tuples)


def write_tuples(
    conn: sa.Connection, table: sa.Table, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> int:
    """Rows already in the driver's types, straight to the driver; return how many."""
    dialect = conn.dialect
    preparer = dialect.identifier_preparer
    names = ", ".join(preparer.quote(c) for c in columns)
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        # COPY is PostgreSQL's bulk path: one stream instead of one statement per row.
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(f"COPY {preparer.format_table(table)} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return len(rows)
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    marks = ", ".join([mark] * len(columns))
    conn.exec_driver_sql(
        f"INSERT INTO {preparer.format_table(table)} ({names}) VALUES ({marks})", list(rows)
    )
    return len(rows)
