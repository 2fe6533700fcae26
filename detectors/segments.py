"""Panel plumbing for change points: gaps out, a common scale in, segment means back.

Segmentation runs on each series' observed values only (a gap is not a value, and filling it
would invent a level); the time of each value is kept, so a trend still spans the gap and a
break maps back to the period where the new regime was first observed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from detectors.lazy import lazy

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy("numpy")


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
    rows = np.array(np.broadcast_to(np.arange(n)[:, None], array.shape), order="F")  # column-major, as panels
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
    from detectors.segments_kernel import moments, scaled

    lengths = np.asarray(data.lengths, dtype=np.int64)
    values = np.asfortranarray(data.values)
    mean, ss, resid = moments(values, lengths, _times2d(data) if trend else np.zeros((1, 1)), trend)
    count = np.maximum(lengths, 1).astype(float)
    scale = np.sqrt(np.maximum(resid, 0.0) / count)
    size = np.abs(mean) + np.sqrt(ss / count)
    ok = (lengths >= 2 * min_length) & np.isfinite(scale) & (scale > _FLAT * size)
    return scaled(values, lengths, mean, scale, ok), ok


def _times2d(data: Compact) -> np.ndarray:
    """Times as the kernels take them: (n, 1) when shared, else (n, S)."""
    t = data.times()
    return np.asfortranarray(t[:, None] if t.ndim == 1 else t)


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
    from detectors.segments_kernel import regime_stats

    if len(column) == 0:
        return Regimes(*(np.zeros(0) for _ in range(6)))
    stats = regime_stats(
        np.asfortranarray(data.values),
        np.asarray(data.lengths, dtype=np.int64),
        _times2d(data),
        np.asarray(column, dtype=np.int64),
        np.asarray(position, dtype=np.int64),
        lines,
    )
    return Regimes(stats[0], stats[1], stats[2], stats[3], stats[4], stats[5])
