"""Bulk writes through the driver, values converted to the driver's form, and the small
conversions every reader of the store's rows needs.

A cycle writes tens of thousands of rows at once (observations, alerts, outbox); building a
dict per row and letting SQLAlchemy process it costs more than the insert itself, so rows go
to the driver as tuples in one executemany.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

_DRIVER_MARKS = {"qmark": "?", "format": "%s", "pyformat": "%s"}


def insert_rows(conn: Connection, table: sa.Table, columns: Sequence[str],
                rows: Sequence[tuple[Any, ...]]) -> None:
    """executemany through the driver with tuples, values already in the driver's form
    (`bind`): building and processing a dict per row costs more than the insert itself."""
    if not rows:
        return
    mark = _DRIVER_MARKS.get(conn.dialect.paramstyle)
    if mark is None:
        conn.execute(table.insert(), [dict(zip(columns, row, strict=True)) for row in rows])
        return
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})"
    conn.exec_driver_sql(sql, list(rows))


def delete_rows(conn: Connection, column: sa.Column[Any], keys: Sequence[Any]) -> None:
    """Delete the rows whose `column` (a key) is one of `keys`: one executemany through the
    driver, each key an index lookup, instead of compiling an IN list per batch."""
    if not keys:
        return
    mark = _DRIVER_MARKS.get(conn.dialect.paramstyle)
    if mark is None:
        conn.execute(column.table.delete().where(column == sa.bindparam("key")), [{"key": k} for k in keys])
        return
    sql = f"DELETE FROM {column.table.name} WHERE {column.name} = {mark}"
    conn.exec_driver_sql(sql, [(key,) for key in keys])


def bind(conn: Connection, column: sa.Column[Any], value: Any) -> Any:
    """`value` as the driver gets it for `column` (SQLite keeps datetimes as text)."""
    return binder(conn, column)(value)


def _processor(conn: Connection, column: sa.Column[Any]) -> Callable[[Any], Any] | None:
    """The driver-side conversion of `column`'s type, None when values pass as they are."""
    return column.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)


def binder(conn: Connection, column: sa.Column[Any]) -> Callable[[Any], Any]:
    """`bind` for many values of one column: the type's processor looked up once; None as is."""
    processor = _processor(conn, column)
    if processor is None:
        return lambda value: value
    return lambda value: None if value is None else processor(value)


def row_binder(conn: Connection, table: sa.Table) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
    """`bind` for whole rows of `table` (values in column order). Only columns whose type
    has a processor are converted, each distinct value once: rows written together share
    most of their timestamps."""
    processors = [(i, _processor(conn, column)) for i, column in enumerate(table.columns)]
    converting: list[tuple[int, Callable[[Any], Any], dict[Any, Any]]] = [
        (i, processor, {}) for i, processor in processors if processor is not None]

    def to_driver(row: tuple[Any, ...]) -> tuple[Any, ...]:
        if not converting:
            return row
        out = list(row)
        for i, processor, seen in converting:
            value = out[i]
            if value is not None:
                done = seen.get(value)
                out[i] = done if done is not None else seen.setdefault(value, processor(value))
        return tuple(out)

    return to_driver


def replace_rows(conn: Connection, table: sa.Table, key: sa.Column[Any], deleted: Sequence[Any],
                 rows: Iterable[tuple[Any, ...]]) -> None:
    """Rows of `table` (values in column order) written over those with the same `key`, and
    the rows keyed `deleted` removed: an upsert as a delete and an insert, both in bulk,
    through the driver, in any dialect."""
    kept = list(rows)
    index = [c.name for c in table.columns].index(key.name)
    delete_rows(conn, key, [*deleted, *(row[index] for row in kept)])
    to_driver = row_binder(conn, table)
    insert_rows(conn, table, [c.name for c in table.columns], [to_driver(row) for row in kept])


def utc(value: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes, PostgreSQL aware ones in the session's zone; everything
    in tradewatch is aware, in `datetime.UTC`."""
    if value is None or value.tzinfo is UTC:
        return value
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def decode_all(texts: Sequence[str]) -> list[dict[str, str]]:
    """Many small JSON objects in one parse: half the time of one json.loads each."""
    return json.loads("[" + ",".join(texts) + "]") if texts else []


def chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    """`items` in slices of at most `size` (an IN list per slice stays within driver limits)."""
    for start in range(0, len(items), size):
        yield items[start:start + size]
