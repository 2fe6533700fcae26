"""The earlier layout of `observations`, one row per (series, period, vintage): recognised,
converted into packed rows when the store opens, and read as it is by a reader that cannot
convert it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from monitor.periods import pandas_freq
from monitor.store.codec import OBSERVATION_COLUMNS, expand, pack, read_blocks
from monitor.store.schema import observations, series_table
from monitor.store.sql import bind, insert_rows


def migrate_row_layout(conn: Connection) -> None:
    """Rewrite `observations` from one row per (series, period, vintage) into packed rows,
    oldest fetch first, and drop the `current` table it replaces (its content is the newest
    vintage of each value, rebuilt from the history)."""
    old = sa.Table("observations", sa.MetaData(), autoload_with=conn)
    frequencies = dict(conn.execute(sa.select(series_table.c.id, series_table.c.frequency)).all())
    rows = conn.execute(sa.select(old.c.series, old.c.period, old.c.vintage, old.c.value)
                        .order_by(old.c.vintage, old.c.series, old.c.period)).all()
    old.drop(conn)
    if sa.inspect(conn).has_table("current"):
        sa.Table("current", sa.MetaData(), autoload_with=conn).drop(conn)
    observations.create(conn)
    packed: list[tuple[Any, ...]] = []
    start = 0
    while start < len(rows):
        series, vintage = rows[start][0], rows[start][2]
        end = start
        while end < len(rows) and rows[end][0] == series and rows[end][2] == vintage:
            end += 1
        freq = pandas_freq(frequencies.get(series, "M"))
        ordinals = pd.PeriodIndex([r[1] for r in rows[start:end]], freq=freq).asi8
        values = np.array([r[3] for r in rows[start:end]], dtype=float)
        order = np.argsort(ordinals, kind="stable")
        packed.append((series, bind(conn, observations.c.vintage, vintage),
                       *pack(ordinals[order], values[order])))
        start = end
    insert_rows(conn, observations, OBSERVATION_COLUMNS, packed)


def has_row_layout(conn: Connection) -> bool:
    inspector = sa.inspect(conn)
    if not inspector.has_table("observations"):
        return False
    return "period" in {c["name"] for c in inspector.get_columns("observations")}


def read_versions(conn: Connection, frequencies: dict[str, str]) -> pd.DataFrame:
    """Every stored value, one row each (series, period, vintage, value), whichever layout
    the database has (a read-only reader cannot migrate it)."""
    if has_row_layout(conn):
        old = sa.Table("observations", sa.MetaData(), autoload_with=conn)
        rows = conn.execute(sa.select(old.c.series, old.c.period, old.c.vintage, old.c.value)).all()
        return pd.DataFrame(rows, columns=["series", "period", "vintage", "value"])
    return expand(list(read_blocks(conn)), frequencies)
