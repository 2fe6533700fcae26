"""Reading the series back: their labels, panels of current values, each series' newest
period, one series' history, and every vintage of one series.

All but the vintages read the current values kept in memory (`monitor.store.state`); the
vintages come from the packed history on disk.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from monitor.periods import pandas_freq, periods_per_year
from monitor.store.codec import expand, read_blocks
from monitor.store.current import period_strings
from monitor.store.database import Database
from monitor.store.state import Memory, SeriesInfo

_SNAPSHOT_COLUMNS = ["series", "frequency", "period", "value", "vintage", "year_ago_period", "year_ago_value"]


def series_infos(memory: Memory, ids: Iterable[str] | None = None) -> dict[str, SeriesInfo]:
    """The stored series (of `ids`, or all) by id."""
    state = memory.synced()
    with memory.lock:
        if ids is None:
            return dict(state.infos)
        infos = state.infos
        return {sid: infos[sid] for sid in sorted(set(ids)) if sid in infos}


def panel(memory: Memory, ids: Sequence[str], frequency: str) -> pd.DataFrame:
    """Current values as a panel: full PeriodIndex, one float column per series."""
    state = memory.synced()
    with memory.lock:
        matrix = state.matrices.get(frequency)
        if matrix is None:
            return pd.DataFrame(index=pd.PeriodIndex([], freq=pandas_freq(frequency)), dtype=float)
        return matrix.panel(ids)


def newest_period(memory: Memory, source: str) -> str | None:
    """The newest reference period any series of `source` has (None before its first data)."""
    state = memory.synced()
    with memory.lock:
        ids = [sid for sid, info in state.infos.items() if info.labels.get("source") == source]
        newest = None
        for matrix in state.matrices.values():
            names, rows = matrix.rows_of(ids)
            if names:
                ordinal = int(matrix.last[rows].max()) + matrix.start
                found = str(period_strings(np.array([ordinal]), matrix.freq)[0])
                newest = found if newest is None or found > newest else newest
    return newest


def latest_snapshot(memory: Memory, ids: Iterable[str] | None = None) -> pd.DataFrame:
    """Each series' newest period (of `ids`, or all): series, frequency, period, value,
    vintage and the value of the same period a year earlier (NaN when missing)."""
    state = memory.synced()
    wanted = None if ids is None else set(ids)
    parts = []
    with memory.lock:
        for frequency, matrix in state.matrices.items():
            names, rows = matrix.rows_of(matrix.ids if wanted is None else wanted)
            ordinals, value, vintage, year_ago = matrix.newest(rows)
            back = ordinals - periods_per_year(frequency)
            parts.append(pd.DataFrame({
                "series": pd.Series(names, dtype=object), "frequency": frequency,
                "period": period_strings(ordinals, matrix.freq),
                "value": value, "vintage": np.array([*state.vintages, None], dtype=object)[vintage],
                "year_ago_period": period_strings(back, matrix.freq), "year_ago_value": year_ago}))
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=float if c.endswith("value") else object)
                             for c in _SNAPSHOT_COLUMNS})
    frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    if len(parts) > 1:
        frame = frame.sort_values("series", kind="stable").reset_index(drop=True)
    return frame[_SNAPSHOT_COLUMNS]


def series_history(memory: Memory, series_id: str) -> pd.Series:
    """Current values of one series on a PeriodIndex (empty when unknown); `attrs["vintage"]`
    is the newest fetch time among them, for "data as of" lines."""
    state = memory.synced()
    with memory.lock:
        info = state.infos.get(series_id)
        matrix = state.matrices.get(info.frequency) if info else None
        freq = pandas_freq(info.frequency if info else "M")
        if matrix is None:
            ordinals, values, vintages = np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int64)
        else:
            ordinals, values, vintages = matrix.history(series_id)
        times = [state.vintages[v] for v in np.unique(vintages).tolist()]
    index = pd.PeriodIndex.from_ordinals(ordinals, freq=freq)
    history = pd.Series(values, index=index, dtype=float, name=series_id)
    history.attrs["vintage"] = max(times, default=None)
    return history


def vintages(database: Database, memory: Memory, series: str) -> pd.DataFrame:
    """Every published value of one series: series, period, vintage, value, by period then
    fetch time."""
    state = memory.synced()
    info = state.infos.get(series)
    with database.read() as conn:
        blocks = list(read_blocks(conn, series=series))
    frame = expand(blocks, {series: info.frequency if info else "M"})
    return frame.sort_values(["period", "vintage"], kind="stable").reset_index(drop=True)
