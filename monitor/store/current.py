"""The current value of every (series, period), in memory, one matrix per frequency.

Panels, the metrics snapshot and change detection at ingest read this instead of the
database: for 100,000 series of 20 years of months, a pivot of 24 million rows takes minutes,
a slice of a matrix a fraction of a second. The store keeps it in step with the vintage
history (it is rebuilt from `observations` at start and updated after each commit).

A matrix holds one row per series and one column per period (period ordinal minus `start`),
with spare capacity in both directions so that a new series or a new month rarely copies it.
`vintage` holds, per cell, the index of the fetch time of the value (-1: no value).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from monitor.periods import pandas_freq, periods_per_year

_SPARE_PERIODS = 24  # room for two years of new months before the matrix is copied


@dataclass(frozen=True, slots=True)
class Cells:
    """Cells to write, at distinct positions, each row's cells contiguous with increasing
    ordinals: `rows` index the matrix's series, `ordinals` are period ordinals, `vintage`
    the fetch-time index of each cell (or one for all)."""

    rows: np.ndarray
    ordinals: np.ndarray
    values: np.ndarray
    vintage: np.ndarray | int


class Matrix:
    """Current values of the series of one frequency."""

    def __init__(self, frequency: str) -> None:
        self.frequency = frequency
        self.freq = pandas_freq(frequency)
        self.ids: list[str] = []
        self.row: dict[str, int] = {}
        self.start = 0
        self.width = 0  # periods in use: ordinals start .. start + width - 1
        self.values = np.full((0, 0), np.nan)
        self.vintage = np.full((0, 0), -1, dtype=np.int32)
        self.first = np.zeros(0, dtype=np.int64)  # column of each series' first value, -1: none
        self.last = np.zeros(0, dtype=np.int64)

    @property
    def size(self) -> int:
        return len(self.ids)

    # -- growth -------------------------------------------------------------------------
    def add_series(self, ids: Sequence[str]) -> None:
        """Append rows for series not yet here (in the order given)."""
        fresh = [sid for sid in ids if sid not in self.row]
        if not fresh:
            return
        need = self.size + len(fresh)
        if need > self.values.shape[0]:
            self._resize(max(need, self.values.shape[0] * 3 // 2 + 1024), self.values.shape[1], 0)
        for sid in fresh:
            self.row[sid] = len(self.ids)
            self.ids.append(sid)

    def cover(self, lo: int, hi: int) -> None:
        """Make room for period ordinals lo..hi (inclusive)."""
        if self.width == 0:
            if hi - lo + 1 > self.values.shape[1]:
                self._resize(self.values.shape[0], hi - lo + 1 + _SPARE_PERIODS, 0)
            self.start, self.width = lo, hi - lo + 1
            return
        start = self.start if lo >= self.start else lo - _SPARE_PERIODS  # room for older ones too
        end = max(self.start + self.width - 1, hi)
        shift = self.start - start
        if shift or end - start + 1 > self.values.shape[1]:
            self._resize(self.values.shape[0], end - start + 1 + _SPARE_PERIODS, shift)
        self.start, self.width = start, end - start + 1

    def _resize(self, rows: int, cols: int, shift: int) -> None:
        values = np.full((rows, cols), np.nan)
        vintage = np.full((rows, cols), -1, dtype=np.int32)
        old_rows, old_cols = self.values.shape
        values[:old_rows, shift:shift + old_cols] = self.values
        vintage[:old_rows, shift:shift + old_cols] = self.vintage
        first = np.full(rows, -1, dtype=np.int64)
        last = np.full(rows, -1, dtype=np.int64)
        first[:old_rows] = np.where(self.first >= 0, self.first + shift, -1)
        last[:old_rows] = np.where(self.last >= 0, self.last + shift, -1)
        self.values, self.vintage, self.first, self.last = values, vintage, first, last

    # -- reading and writing cells --------------------------------------------------------
    def apply(self, cells: Cells) -> None:
        """Write cells (see `Cells` for the order they come in)."""
        if len(cells.rows) == 0:
            return
        self.cover(int(cells.ordinals.min()), int(cells.ordinals.max()))
        cols = cells.ordinals - self.start
        self.values[cells.rows, cols] = cells.values
        self.vintage[cells.rows, cols] = cells.vintage
        starts = np.flatnonzero(np.r_[True, cells.rows[1:] != cells.rows[:-1]])
        ends = np.r_[starts[1:], len(cells.rows)] - 1
        rows = cells.rows[starts]
        lo, hi = cols[starts], cols[ends]
        first, last = self.first[rows], self.last[rows]
        self.first[rows] = np.where(first < 0, lo, np.minimum(first, lo))
        self.last[rows] = np.maximum(last, hi)

    # -- views ----------------------------------------------------------------------------
    def rows_of(self, ids: Iterable[str]) -> tuple[list[str], np.ndarray]:
        """Sorted ids present here with at least one value, and their rows."""
        names = sorted(sid for sid in set(ids) if sid in self.row)
        rows = np.fromiter((self.row[sid] for sid in names), dtype=np.int64, count=len(names))
        has = self.last[rows] >= 0 if len(rows) else np.zeros(0, dtype=bool)
        return [n for n, ok in zip(names, has.tolist(), strict=True) if ok], rows[has]

    def panel(self, ids: Iterable[str]) -> pd.DataFrame:
        """Full PeriodIndex from the first to the last period any of them has, a float column
        per series (sorted ids), gaps as NaN."""
        names, rows = self.rows_of(ids)
        if not names:
            return pd.DataFrame(index=pd.PeriodIndex([], freq=self.freq), dtype=float)
        lo, hi = int(self.first[rows].min()), int(self.last[rows].max())
        block = self.values[rows, lo:hi + 1]  # a copy: detectors never see the cache
        index = pd.PeriodIndex.from_ordinals(np.arange(self.start + lo, self.start + hi + 1), freq=self.freq)
        columns = pd.Index(names, dtype=object)  # plain str objects: cheap to iterate
        return pd.DataFrame(block.T, index=index, columns=columns, copy=False)

    def newest(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per row: newest period ordinal, its value and vintage index, and the value of the
        same period a year earlier (NaN when missing)."""
        last = self.last[rows]
        value = self.values[rows, last]
        vintage = self.vintage[rows, last]
        back = last - periods_per_year(self.frequency)
        year_ago = np.full(len(rows), np.nan)
        ok = back >= 0
        year_ago[ok] = self.values[rows[ok], back[ok]]
        return last + self.start, value, vintage, year_ago

    def history(self, sid: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Ordinals, values and vintage indexes of the cells one series has."""
        row = self.row.get(sid)
        if row is None or self.last[row] < 0:
            empty = np.zeros(0, dtype=np.int64)
            return empty, np.zeros(0), empty
        lo, hi = int(self.first[row]), int(self.last[row]) + 1
        values = self.values[row, lo:hi]
        has = ~np.isnan(values)
        ordinals = np.arange(self.start + lo, self.start + hi)[has]
        return ordinals, values[has].copy(), self.vintage[row, lo:hi][has].astype(np.int64)


def period_strings(ordinals: np.ndarray, freq: str) -> np.ndarray:
    """Period labels ("2015-03") of ordinals, formatting each distinct one once."""
    if len(ordinals) == 0:
        return np.zeros(0, dtype=object)
    unique, inverse = np.unique(ordinals, return_inverse=True)
    labels = np.asarray(pd.PeriodIndex.from_ordinals(unique, freq=freq).astype(str), dtype=object)
    return labels[inverse]
