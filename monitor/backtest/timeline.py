"""What was visible at each step of a backtest.

A backtest steps through the periods of a window. At the step for period t:

- the as-of time is the release of t: the earliest vintage holding a value for t in the
  group's series (or the last release before it, when nothing was published for t; it never
  goes back), so a stored value is visible only if its vintage is on or before it;
- values fetched from a source (no vintage) are visible from the step of their own period:
  the series truncated at t;
- nothing after t is visible, whatever its vintage.

A series whose visible values changed at a step (a new period, a revision) is evaluated at
that step, as the daemon evaluates the series an ingest changed.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from monitor.backtest.history import NO_VINTAGE, History
from monitor.periods import pandas_freq, read_period


class WindowError(ValueError):
    """A --from/--to bound that is not a period."""


@dataclass(frozen=True, slots=True)
class Window:
    """Optional first and last period, in any frequency (`2014-01`, `2014Q1`, `2014`)."""

    start: str | None = None
    end: str | None = None

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            text = getattr(self, name)
            if text is not None:
                _parse(text)
        if (self.start is not None and self.end is not None
                and _parse(self.start).start_time > _parse(self.end).end_time):
            raise WindowError(f"--from {self.start} is after --to {self.end}")

    def bounds(self, frequency: str) -> tuple[pd.Period | None, pd.Period | None]:
        """The bounds in a series' frequency: --to 2016 means 2016-12 for a monthly series."""
        freq = pandas_freq(frequency)
        first = _parse(self.start).asfreq(freq, how="start") if self.start else None
        last = _parse(self.end).asfreq(freq, how="end") if self.end else None
        return first, last


def _parse(text: str) -> pd.Period:
    try:
        return read_period(text)
    except ValueError as exc:
        raise WindowError(str(exc)) from None


def format_period(period: pd.Period) -> str:
    """`2015-03`, `2015-Q1` or `2015`: the spellings the config and --from accept."""
    code = period.freqstr.split("-")[0].upper()
    if code.startswith("Q"):
        return f"{period.year}-Q{period.quarter}"
    if code.startswith(("Y", "A")):
        return str(period.year)
    return str(period)


@dataclass(frozen=True, slots=True)
class Timeline:
    """The versions of one group of series (one frequency), placed on the step grid.

    Rows of `index` run from the first data period to the last step; step k is row
    `first_row + k`. `cells` are the versions that become visible during the window, in
    the order they do: row, column, value, and the step from which each is visible."""

    index: pd.PeriodIndex
    names: tuple[str, ...]
    first_row: int
    steps: int
    rows: np.ndarray
    cols: np.ndarray
    values: np.ndarray
    visible_from: np.ndarray
    as_of: np.ndarray  # per step: UTC nanoseconds of the release, NO_VINTAGE before any

    @property
    def periods(self) -> pd.PeriodIndex:
        """The step periods."""
        return self.index[self.first_row:self.first_row + self.steps]

    @property
    def simple(self) -> bool:
        """Every value is visible exactly from the step of its period and never revised, so
        the panel at step k is the final panel cut at period k (what the fast path needs)."""
        period_step = np.maximum(self.rows - self.first_row, 0)
        return self.single_versions and bool(np.all(self.visible_from == period_step))

    @property
    def in_order(self) -> bool:
        """Every value has one version, and each series' values become visible in period
        order (a late release may bring several periods at once). Then, at any step, a
        series' visible values are its final values up to its newest visible period, so a
        causal rule's flag there can be read from one pass over the final panel (what the
        fast path needs; weaker than `simple`, which also requires no late release)."""
        if not self.single_versions:
            return False
        order = np.lexsort((self.rows, self.cols))
        cols, shown = self.cols[order], self.visible_from[order]
        same = cols[1:] == cols[:-1]
        return bool(np.all(shown[1:][same] >= shown[:-1][same]))

    @property
    def single_versions(self) -> bool:
        """No cell has more than one version (nothing revised)."""
        return len(np.unique(self.rows * len(self.names) + self.cols)) == len(self.rows)

    def panel(self) -> np.ndarray:
        """The values visible at the last step (rows x columns, NaN where nothing is)."""
        out = np.full((len(self.index), len(self.names)), np.nan)
        out[self.rows, self.cols] = self.values  # later versions come later and win
        return out

    def changes(self) -> Iterator[tuple[int, slice]]:
        """(step, slice of `cells` that become visible then), for steps where any do."""
        bounds = np.searchsorted(self.visible_from, np.arange(self.steps + 1), side="left")
        for k in range(self.steps):
            if bounds[k] < bounds[k + 1]:
                yield k, slice(int(bounds[k]), int(bounds[k + 1]))

    def walk(self) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        """(step, visible values, changed columns) for each step where something changed.

        The array is updated in place between steps: copy what must outlive one step."""
        current = np.full((len(self.index), len(self.names)), np.nan)
        for k, cells in self.changes():
            current[self.rows[cells], self.cols[cells]] = self.values[cells]
            yield k, current, np.unique(self.cols[cells])


def build_timeline(versions: pd.DataFrame, names: Sequence[str], frequency: str,
                   window: Window) -> Timeline | None:
    """Place a group's versions on the window's steps; None when the window misses the data."""
    if versions.empty:
        return None
    freq = pandas_freq(frequency)
    periods = pd.PeriodIndex(versions["period"], freq=freq)
    first_data, last_data = periods.min(), periods.max()
    start, end = window.bounds(frequency)
    start = first_data if start is None or start < first_data else start
    end = last_data if end is None or end > last_data else end
    if start > end:
        return None
    index = pd.period_range(first_data, end, freq=freq)
    rows = np.asarray(periods.asi8, dtype=np.int64) - first_data.ordinal
    column_of = {name: j for j, name in enumerate(names)}
    cols = versions["series"].map(column_of).to_numpy(dtype=np.int64)
    vintages = versions["vintage"].to_numpy(dtype=np.int64)
    values = versions["value"].to_numpy(dtype=float)
    keep = rows < len(index)
    rows, cols, vintages, values = rows[keep], cols[keep], vintages[keep], values[keep]
    first_row = (start - first_data).n
    steps = (end - start).n + 1
    as_of = _as_of(rows, vintages, len(index))[first_row:]
    period_step = np.maximum(rows - first_row, 0)
    vintage_step = np.where(vintages == NO_VINTAGE, 0, np.searchsorted(as_of, vintages, side="left"))
    visible_from = np.maximum(period_step, vintage_step)
    seen = visible_from < steps
    order = np.lexsort((vintages[seen], visible_from[seen]))
    return Timeline(index, tuple(names), first_row, steps, rows[seen][order], cols[seen][order],
                    values[seen][order], visible_from[seen][order], as_of)


def _as_of(rows: np.ndarray, vintages: np.ndarray, length: int) -> np.ndarray:
    """Per row: the latest release up to that period, each period's release being the
    earliest vintage that holds it. Fetched data (no vintage) releases nothing."""
    release = np.full(length, NO_VINTAGE, dtype=np.int64)
    stored = vintages != NO_VINTAGE
    first = np.full(length, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, rows[stored], vintages[stored])
    has = first != np.iinfo(np.int64).max
    release[has] = first[has]
    return np.maximum.accumulate(release)


class Timelines:
    """The timelines of one history, each group and window built once: a rule replayed again
    (its guards off, another threshold on the Tune page) reuses them; they are read-only."""

    def __init__(self, history: History) -> None:
        self.history = history
        self._built: dict[tuple[str, tuple[str, ...], Window], Timeline | None] = {}

    def of(self, ids: Sequence[str], frequency: str, window: Window) -> Timeline | None:
        key = (frequency, tuple(ids), window)
        if key not in self._built:
            self._built[key] = build_timeline(self.history.of(ids), ids, frequency, window)
        return self._built[key]


def final_panel(timeline: Timeline) -> pd.DataFrame:
    """Every series' values as they stand at the timeline's end, from its first filled period."""
    final = timeline.panel()
    filled = np.flatnonzero(~np.isnan(final).all(axis=1))
    lo = int(filled[0]) if len(filled) else 0
    return pd.DataFrame(final[lo:], index=timeline.index[lo:], columns=list(timeline.names))
