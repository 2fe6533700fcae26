"""Packed observation rows: one row per (series, fetch) holding the values that fetch
published or revised, as little-endian arrays (`monitor.store.schema`), written from the
arrays ingest chose and read back as blocks of ordinals and values.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from monitor.periods import pandas_freq
from monitor.store.frames import Incoming
from monitor.store.schema import observations
from monitor.store.sql import utc

OBSERVATION_COLUMNS = ("series", "vintage", "first_period", "cells", "period_ordinals", "period_values")


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
    result = conn.execute(query, execution_options={"yield_per": batch})  # this query's options only
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


def _labels(ordinals: np.ndarray, freq: str) -> np.ndarray:
    unique, inverse = np.unique(ordinals, return_inverse=True)
    text = np.asarray(pd.PeriodIndex.from_ordinals(unique, freq=freq).astype(str), dtype=object)
    return text[inverse]
