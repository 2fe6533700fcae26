"""The vintage history on disk: long frames in, packed rows out, and back.

Everything here works on whole arrays: a source may hand over 24 million values at once, and
anything done once per value in Python costs minutes at that size. See `monitor.schema` for
the row layout.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from monitor.periods import pandas_freq
from monitor.schema import observations, series_table

_DRIVER_MARKS = {"qmark": "?", "format": "%s", "pyformat": "%s"}


@dataclass(frozen=True, slots=True)
class Incoming:
    """A long frame as arrays: one entry per (series, period), each series' entries together
    (codes numbered in that order) with periods increasing, the last of duplicates kept.
    `ids[code]` is the series id; `labels` holds the label columns of each series' first row
    (index: ids)."""

    ids: list[str]
    codes: np.ndarray
    ordinals: np.ndarray
    values: np.ndarray
    labels: pd.DataFrame

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, frequency: str) -> Incoming:
        ids, codes = _series_codes(frame["series"])
        ordinals, known = _ordinals(frame["period"], pandas_freq(frequency))
        values = np.asarray(frame["value"], dtype=float)
        label_columns = [c for c in frame.columns if c not in ("series", "period", "value")]
        keep = (codes >= 0) & known & ~np.isnan(values)
        position = np.flatnonzero(keep) if not keep.all() else None
        if position is not None:
            codes, ordinals, values = codes[position], ordinals[position], values[position]
        codes, ordinals, values, starts, first_rows = _sorted_unique(codes, ordinals, values)
        if position is not None:
            first_rows = position[first_rows]
        present = codes[starts]
        labels = frame.iloc[first_rows][label_columns].astype(object)
        labels.index = pd.Index([ids[c] for c in present.tolist()], dtype=object)
        remap = np.full(len(ids), -1, dtype=np.int64)
        remap[present] = np.arange(len(present))
        return cls([ids[c] for c in present.tolist()], remap[codes], ordinals, values, labels)

    def group_starts(self) -> np.ndarray:
        """Index of the first entry of each series' run (runs are in code order)."""
        if len(self.codes) == 0:
            return np.zeros(0, dtype=np.int64)
        return np.flatnonzero(np.r_[True, self.codes[1:] != self.codes[:-1]])


def _series_codes(series: pd.Series) -> tuple[list[str], np.ndarray]:
    """Distinct ids as str and a code per row (-1 for a missing id); a categorical column
    (what file sources build) is not hashed again."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        raw_codes = np.asarray(series.cat.codes, dtype=np.int64)
        names = [str(c) for c in series.cat.categories]
    else:
        raw_codes, uniques = pd.factorize(series, use_na_sentinel=True)
        raw_codes = np.asarray(raw_codes, dtype=np.int64)
        names = [str(u) for u in uniques]
    merged, distinct = pd.factorize(pd.Index(names, dtype=object))  # 1 and "1" are one id
    if len(distinct) == len(names):  # the usual case: nothing merged, codes stand as they are
        return names, raw_codes
    lookup = np.r_[np.asarray(merged, dtype=np.int64), -1]
    return [str(d) for d in distinct], lookup[raw_codes]


def _ordinals(period: pd.Series, freq: str) -> tuple[np.ndarray, np.ndarray]:
    """Period ordinals of a column of Periods (or their spellings), each distinct value
    parsed once; and which rows have one."""
    if isinstance(period.dtype, pd.PeriodDtype) and period.dtype == pd.PeriodDtype(freq):
        ordinals = np.asarray(period.array.asi8, dtype=np.int64)
        return ordinals, ordinals != np.iinfo(np.int64).min
    codes, uniques = pd.factorize(period, use_na_sentinel=True)
    parsed = pd.PeriodIndex([str(u) for u in uniques], freq=freq).asi8
    lookup = np.r_[np.asarray(parsed, dtype=np.int64), 0]
    return lookup[codes], np.asarray(codes) >= 0


def grouped_and_increasing(codes: np.ndarray, ordinals: np.ndarray) -> bool:
    """Each code's rows are consecutive and their periods strictly increase: then nothing
    repeats and no sort is needed (checked in one pass, no hashing)."""
    if len(codes) < 2:
        return True
    from monitor.current_kernel import grouped_and_increasing as check

    return bool(check(codes, ordinals, int(codes.max()) + 1))


def _sorted_unique(codes: np.ndarray, ordinals: np.ndarray, values: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Group by code with increasing ordinals (sorting only when the rows are not already
    so), keeping the last of duplicates. Also: where each code's run starts, and the row (of
    the arrays given) where each code first appears, in run order."""
    n = len(codes)
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0), empty, empty
    if grouped_and_increasing(codes, ordinals):  # the usual file: series by series, oldest first
        starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
        return codes, ordinals, values, starts, starts
    low = int(ordinals.min())
    key = codes * (int(ordinals.max()) - low + 1) + (ordinals - low)
    first_rows = np.flatnonzero(~pd.Series(codes).duplicated().to_numpy())
    first_rows = first_rows[np.argsort(codes[first_rows], kind="stable")]
    order = np.argsort(key, kind="stable")
    ranked = key[order]
    order = order[np.r_[ranked[1:] != ranked[:-1], True]]
    codes, ordinals, values = codes[order], ordinals[order], values[order]
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    return codes, ordinals, values, starts, first_rows


# -- packed rows --------------------------------------------------------------------------------

def pack(ordinals: np.ndarray, values: np.ndarray) -> tuple[int, int, bytes | None, bytes]:
    """(first_period, cells, period_ordinals or None when consecutive, period_values)."""
    first = int(ordinals[0])
    consecutive = int(ordinals[-1]) - first + 1 == len(ordinals)
    packed = None if consecutive else ordinals.astype("<i4").tobytes()
    return first, len(ordinals), packed, values.astype("<f8").tobytes()


def unpack(first: int, cells: int, packed: bytes | None, values: bytes) -> tuple[np.ndarray, np.ndarray]:
    ordinals = (np.arange(first, first + cells, dtype=np.int64) if packed is None
                else np.frombuffer(packed, dtype="<i4").astype(np.int64))
    return ordinals, np.frombuffer(values, dtype="<f8")


def pack_runs(ids: Sequence[str], incoming: Incoming, chosen: np.ndarray, vintage: Any
              ) -> list[tuple[Any, ...]]:
    """One observations row (without id) per series among the chosen entries, cut from two
    buffers (`pack` for each series would copy every value twice)."""
    codes, ordinals = incoming.codes[chosen], incoming.ordinals[chosen]
    if len(codes) == 0:
        return []
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    ends = np.r_[starts[1:], len(codes)]
    firsts = ordinals[starts]
    consecutive = (ordinals[ends - 1] - firsts + 1 == ends - starts).tolist()
    periods = ordinals.astype("<i4").tobytes()
    values = incoming.values[chosen].astype("<f8").tobytes()
    return [(ids[code], vintage, first, hi - lo, None if together else periods[4 * lo:4 * hi],
             values[8 * lo:8 * hi])
            for code, first, lo, hi, together in zip(codes[starts].tolist(), firsts.tolist(), starts.tolist(),
                                                     ends.tolist(), consecutive, strict=True)]


OBSERVATION_COLUMNS = ("series", "vintage", "first_period", "cells", "period_ordinals", "period_values")


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


def utc(value: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; everything in tradewatch is UTC-aware."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


# -- reading back -----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Block:
    id: int
    series: str
    vintage: datetime
    ordinals: np.ndarray
    values: np.ndarray


def read_blocks(conn: Connection, after: int = 0, series: str | None = None,
                batch: int = 20_000) -> Iterator[Block]:
    """Observation rows with id > `after` (of one series, if given), in id order."""
    c = observations.c
    raw = sa.type_coerce(c.vintage, sa.String)  # parsed below, once per distinct fetch time
    query = sa.select(c.id, c.series, raw, c.first_period, c.cells, c.period_ordinals,
                      c.period_values).where(c.id > after).order_by(c.id)
    if series is not None:
        query = query.where(c.series == series)
    parse = c.vintage.type.dialect_impl(conn.dialect).result_processor(conn.dialect, None)
    vintages: dict[Any, datetime] = {}
    result = conn.execution_options(yield_per=batch).execute(query)
    for part in result.partitions():
        for row in part:
            if row[2] not in vintages:
                vintages[row[2]] = utc(parse(row[2]) if parse is not None else row[2]) or row[2]
            ordinals, values = unpack(row[3], row[4], row[5], row[6])
            yield Block(row[0], row[1], vintages[row[2]], ordinals, values)


def expand(blocks: Sequence[Block], frequencies: dict[str, str]) -> pd.DataFrame:
    """Blocks as one row per value: series, period (text), vintage (as the database returned
    it), value."""
    if not blocks:
        return pd.DataFrame({"series": pd.Series(dtype=object), "period": pd.Series(dtype=object),
                             "vintage": pd.Series(dtype=object), "value": pd.Series(dtype=float)})
    counts = [len(b.ordinals) for b in blocks]
    series = np.repeat(np.array([b.series for b in blocks], dtype=object), counts)
    vintages = np.repeat(np.array([b.vintage for b in blocks], dtype=object), counts)
    ordinals = np.concatenate([b.ordinals for b in blocks])
    periods = np.empty(len(ordinals), dtype=object)
    freq_of = np.repeat(np.array([frequencies.get(b.series, "M") for b in blocks], dtype=object), counts)
    for frequency in set(freq_of.tolist()):
        mine = freq_of == frequency
        periods[mine] = _labels(ordinals[mine], pandas_freq(frequency))
    return pd.DataFrame({"series": series, "period": periods, "vintage": vintages,
                         "value": np.concatenate([b.values for b in blocks])})


def read_versions(conn: Connection, frequencies: dict[str, str]) -> pd.DataFrame:
    """Every stored value, one row each (series, period, vintage, value), whichever layout
    the database has (a read-only reader cannot migrate it)."""
    if has_row_layout(conn):
        old = sa.Table("observations", sa.MetaData(), autoload_with=conn)
        rows = conn.execute(sa.select(old.c.series, old.c.period, old.c.vintage, old.c.value)).all()
        return pd.DataFrame(rows, columns=["series", "period", "vintage", "value"])
    return expand(list(read_blocks(conn)), frequencies)


def _labels(ordinals: np.ndarray, freq: str) -> np.ndarray:
    unique, inverse = np.unique(ordinals, return_inverse=True)
    text = np.asarray(pd.PeriodIndex.from_ordinals(unique, freq=freq).astype(str), dtype=object)
    return text[inverse]


# -- the earlier layout: one row per value --------------------------------------------------------

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
