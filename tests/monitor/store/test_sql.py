"""Bulk writes through the driver and the conversion of values to the driver's form."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from monitor.store import Store
from monitor.store.schema import alerts, silences
from monitor.store.sql import bind, delete_rows, insert_rows, row_binder
from tests.monitor.store.support import V1, V2


def test_row_binder_converts_like_bind_and_leaves_other_columns(store_url: Callable[..., str]) -> None:
    store = Store(store_url())
    row = ("fp", "rule", "s", "{}", "warning", "firing", 1, "2026-01", "2026-01", 1.5, None, "text",
           V1, None, V1, V2, None)
    with store.engine.connect() as conn:
        converted = row_binder(conn, alerts)(row)
        expected = tuple(bind(conn, column, value) for column, value in zip(alerts.columns, row, strict=True))
    assert converted == expected
    assert converted[12] == converted[14]
    if store.engine.dialect.name == "sqlite":
        assert converted[12] != V1  # SQLite keeps datetimes as text
    else:
        assert converted[12] == V1  # psycopg takes aware datetimes as they are
    store.close()


def test_delete_rows_removes_exactly_the_keys_given(store_url: Callable[..., str]) -> None:
    store = Store(store_url())
    columns = [c.name for c in silences.columns]
    with store.engine.begin() as conn:
        to_driver = row_binder(conn, silences)
        rows = []
        for key in ("a", "b", "c"):
            row = {"id": key, "matchers": "[]", "starts_at": V1, "ends_at": V2, "created_by": "me",
                   "comment": "", "created_at": V1, "updated_at": V1}
            rows.append(to_driver(tuple(row[name] for name in columns)))
        insert_rows(conn, silences, columns, rows)
        delete_rows(conn, silences.c.id, ["a", "c", "missing"])
        left = conn.execute(sa.select(silences.c.id)).scalars().all()
    assert left == ["b"]
    store.close()
