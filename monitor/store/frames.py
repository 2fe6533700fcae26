"""Long frames as the arrays ingest compares: series codes, period ordinals, values, each
series' entries together and in period order.

Everything here works on whole arrays and reads no state, so a fetch thread prepares its
frame while another source is being ingested: a source may hand over 24 million values at
once, and anything done once per value in Python costs minutes at that size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from monitor.periods import pandas_freq


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
    from monitor.store.current_kernel import grouped_and_increasing as check

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


def prepare(frame: pd.DataFrame, frequency: str) -> Incoming:
    """A long frame as the arrays `ingest` compares (see `Incoming`)."""
    return Incoming.from_frame(frame, frequency)
