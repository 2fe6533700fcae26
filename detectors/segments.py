"""Panel plumbing for change points: gaps out, a common scale in, segment means back.

Segmentation runs on each series' observed values only (a gap is not a value, and filling it
would invent a level); the time of each value is kept, so a trend still spans the gap and a
break maps back to the period where the new regime was first observed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_FLAT = 1e-9  # residual scale below this fraction of the series' size: nothing to segment


@dataclass(frozen=True, slots=True)
class Compact:
    """Each column's observed values moved to the top, in order.

    `values[:lengths[c], c]` are column c's observations and `rows[:lengths[c], c]` their
    rows in the panel; `rows` is None when the panel has no gaps (row k is value k).
    """

    values: np.ndarray
    rows: np.ndarray | None
    lengths: np.ndarray

    def times(self) -> np.ndarray:
        """Panel row of each value as float: (n,) when shared by all columns, else (n, S)."""
        if self.rows is None:
            return np.arange(self.values.shape[0], dtype=float)
        return self.rows.astype(float)

    def row_of(self, column: np.ndarray, position: np.ndarray) -> np.ndarray:
        """Panel rows of values given by (column, position-within-column)."""
        if self.rows is None:
            return position.astype(np.int64)
        return self.rows[position, column].astype(np.int64)


def compact(array: np.ndarray) -> Compact:
    """Drop the NaN of every column, keeping order; untouched when there are none."""
    valid = ~np.isnan(array)
    lengths = valid.sum(axis=0).astype(np.int64)
    if valid.all():
        return Compact(array, None, lengths)
    n = array.shape[0]
    rows = np.broadcast_to(np.arange(n)[:, None], array.shape).copy()
    values = np.where(valid, array, 0.0)
    gappy = np.flatnonzero(~valid.all(axis=0))
    order = np.argsort(~valid[:, gappy], axis=0, kind="stable")
    rows[:, gappy] = order
    values[:, gappy] = np.take_along_axis(values[:, gappy], order, axis=0)
    return Compact(values, rows, lengths)


def standardize(data: Compact, *, trend: bool, min_length: int) -> tuple[np.ndarray, np.ndarray]:
    """Values divided by the residual scale of the no-change model, and which columns to segment.

    The no-change model is one mean (or with `trend`, one straight line in time) over the
    whole series; its residual variance is everything a single regime leaves unexplained.
    Measuring penalties in that unit makes them scale-free and conservative: a break must
    explain a material share of the variance, however persistent the noise is. Columns that
    are too short, or that the model already fits exactly, have nothing to segment.
    """
    n = data.values.shape[0]
    valid = np.arange(n)[:, None] < data.lengths[None, :]
    count = np.maximum(data.lengths, 1).astype(float)
    y = np.where(valid, data.values, 0.0)
    mean = y.sum(axis=0) / count
    dev = np.where(valid, y - mean, 0.0)
    ss = (dev * dev).sum(axis=0)
    resid = ss
    if trend:
        t = data.times()
        t = np.broadcast_to(t[:, None], y.shape) if t.ndim == 1 else t
        t_dev = np.where(valid, t - np.where(valid, t, 0.0).sum(axis=0) / count, 0.0)
        stt = (t_dev * t_dev).sum(axis=0)
        sty = (t_dev * dev).sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            resid = np.where(stt > 0, ss - sty * sty / stt, 0.0)
    scale = np.sqrt(np.maximum(resid, 0.0) / count)
    size = np.abs(mean) + np.sqrt(ss / count)
    ok = (data.lengths >= 2 * min_length) & np.isfinite(scale) & (scale > _FLAT * size)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(valid & ok[None, :], dev / np.where(ok, scale, 1.0), 0.0)
    return z, ok


@dataclass(frozen=True, slots=True)
class Regimes:
    """The regimes on either side of each break, in the data's own units.

    `before`/`after` are their means; `line_before` is the old regime's straight-line fit
    extended to the break's period and `line_after` the new regime's fit there, with
    `slope_before`/`slope_after` per period: what a trend model compares.
    """

    before: np.ndarray
    after: np.ndarray
    line_before: np.ndarray
    line_after: np.ndarray
    slope_before: np.ndarray
    slope_after: np.ndarray


def regimes(data: Compact, column: np.ndarray, position: np.ndarray, *, lines: bool = True) -> Regimes:
    """Regime statistics for flat breaks sorted by (column, position); a regime runs from
    the previous break of its column (or the start) to the next (or the end). Without
    `lines` only the means are computed (the line fields are NaN)."""
    if len(column) == 0:
        return Regimes(*(np.zeros(0) for _ in range(6)))
    cols = np.unique(column)
    n = data.values.shape[0]
    valid = np.arange(n)[:, None] < data.lengths[None, cols]
    y = np.where(valid, data.values[:, cols], 0.0)
    times = data.times()
    t = np.where(valid, times[:, None] if times.ndim == 1 else times[:, cols], 0.0)
    j = np.searchsorted(cols, column)
    same_prev = np.r_[False, column[1:] == column[:-1]]
    same_next = np.r_[column[:-1] == column[1:], False]
    start = np.where(same_prev, np.r_[0, position[:-1]], 0)
    stop = np.where(same_next, np.r_[position[1:], 0], data.lengths[column])
    if not lines:
        sums = _cumsum(y)
        before = (sums[position, j] - sums[start, j]) / (position - start)
        after = (sums[stop, j] - sums[position, j]) / (stop - position)
        nan = np.full(len(column), np.nan)
        return Regimes(before, after, nan, nan, nan, nan)
    at = t[position, j]  # the time of the break
    sums_all = [_cumsum(a) for a in (y, t, t * t, t * y)]
    old = _lines(sums_all, j, start, position, at)
    new = _lines(sums_all, j, position, stop, at)
    return Regimes(old[0], new[0], old[1], new[1], old[2], new[2])


def _cumsum(a: np.ndarray) -> np.ndarray:
    out = np.zeros((a.shape[0] + 1, a.shape[1]))
    np.cumsum(a, axis=0, out=out[1:])
    return out


def _lines(
    sums: list[np.ndarray], j: np.ndarray, lo: np.ndarray, hi: np.ndarray, at: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, least-squares line value at time `at`, and slope of each span [lo, hi)."""
    sy, st, stt, sty = ((s[hi, j] - s[lo, j]) for s in sums)
    m = (hi - lo).astype(float)
    mean, t_mean = sy / m, st / m
    var_t = stt - st * t_mean
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.where(var_t > 0, (sty - t_mean * sy) / var_t, 0.0)
    return mean, mean + slope * (at - t_mean), slope
