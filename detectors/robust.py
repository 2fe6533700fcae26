"""Robust z-score: how unusual a value is against its own recent history.

Each value is compared with the median of the previous `window` periods, scaled by their median
absolute deviation (MAD): z = 0.6745 (x - median) / MAD, the modified z-score of Iglewicz and
Hoaglin, flagged beyond 3.5 by default. Median and MAD ignore the few wild months that would
inflate a mean and a standard deviation. With `seasonal`, the history is the same calendar month
(or quarter) of the previous `years` years, so December is judged against Decembers.

A value is scored only when at least `min_history` of its history values are present; other
cells are never flagged, and `Scan.evidence["history"]` and `short_history` say why. When MAD is
0 (at least half the history sits exactly on the median), the scale falls back to 1.253314 x
the mean absolute deviation from the median (the IBM SPSS convention), so z stays finite; when
that is 0 too the history is constant, no spread can say how unusual a value is, and z is NaN
(not flagged).

Both statistics are exact. The sorted history of every cell comes from a sliding sorted window
(remove the value leaving, insert the value arriving, vectorized across a block of series) or,
for the short seasonal history, a sorting network across the lagged copies; median and MAD are
then read off sorted columns without any per-series loop. The cost grows with `window` (each
cell reads its whole sorted window); the seasonal form reads only `years` values per cell.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd

from detectors import validate
from detectors.base import Cell, Scan, last_valid_rows
from detectors.errors import DetectorConfigError
from detectors.findings import FindingKind
from detectors.panel import FreqLike, periods_per_year
from detectors.transforms import bound_phrase, value_phrase
from detectors.wording import period_noun

RobustDirection = Literal["above", "below", "both"]

CONSISTENCY = 0.6745  # MAD / 0.6745 estimates the standard deviation of normal data
MEAN_AD_FACTOR = 1.253314  # sqrt(pi / 2), the same role for the mean absolute deviation
DEFAULT_WINDOW = 36
DEFAULT_YEARS = 5
_SLIDING_BLOCK = 1024  # series sliding together: one sorted window block stays in cache
_SEASONAL_BYTES = 1 << 21  # sorted seasonal histories of one block of series: about 2 MB
_MAX_WORKERS = 4  # threads sharing the blocks of one scan


@dataclass(frozen=True, slots=True)
class HistoryShortfall:
    """A series whose newest value cannot be scored for lack of history."""

    series: str
    period: pd.Period
    needed: int
    available: int
    seasonal: bool

    def __str__(self) -> str:
        noun = period_noun(self.period.freq)
        if self.seasonal and noun != "year":
            return f"{self.series}: needs {self.needed} years of same-{noun} history, has {self.available}"
        return f"{self.series}: needs {self.needed} {noun}s of history, has {self.available}"


@dataclass(frozen=True, slots=True)
class RobustZ:
    """Fires where |z| (or z, or -z, by `direction`) exceeds `threshold`."""

    kind: ClassVar[str] = "robust_z"
    causal: ClassVar[bool] = True  # the flag at t reads data up to t only (backtests rely on it)
    finding_kind: ClassVar[FindingKind] = "condition"
    threshold: float = 3.5
    direction: RobustDirection = "both"
    window: int | None = None
    seasonal: bool = False
    years: int | None = None
    min_history: int | None = None

    def __post_init__(self) -> None:
        kind = self.kind
        threshold = validate.finite_number(kind, "threshold", self.threshold)
        if threshold <= 0:
            raise DetectorConfigError(f"{kind}.threshold must be > 0, got {self.threshold!r}")
        object.__setattr__(self, "threshold", threshold)
        validate.choice(kind, "direction", self.direction, ("above", "below", "both"))
        seasonal = validate.boolean(kind, "seasonal", self.seasonal)
        object.__setattr__(self, "seasonal", seasonal)
        if seasonal and self.window is not None:
            raise DetectorConfigError(f"{kind}.window does not apply when seasonal is true; use years")
        if not seasonal and self.years is not None:
            raise DetectorConfigError(f"{kind}.years applies only when seasonal is true")
        if seasonal:
            years = DEFAULT_YEARS if self.years is None else self.years
            object.__setattr__(self, "years", validate.int_at_least(kind, "years", years, 3))
        else:
            window = DEFAULT_WINDOW if self.window is None else self.window
            object.__setattr__(self, "window", validate.int_at_least(kind, "window", window, 3))
        span = self.span
        min_history = span if self.min_history is None else self.min_history
        min_history = validate.int_at_least(kind, "min_history", min_history, 3)
        if min_history > span:
            what = "years" if seasonal else "window"
            raise DetectorConfigError(
                f"{kind}.min_history must be <= {what} ({span}), got {min_history}"
            )
        object.__setattr__(self, "min_history", min_history)

    @property
    def span(self) -> int:
        """How many history values each score looks at: `window`, or `years` when seasonal."""
        return int(self.years if self.seasonal else self.window)  # type: ignore[arg-type]

    def lookback(self, freq: FreqLike) -> int:
        """Rows before a cell that its score reads (the daemon scores only the newest rows)."""
        return self.span * (periods_per_year(freq) if self.seasonal else 1)

    @property
    def history_needed(self) -> int:
        """How many present history values a value needs before it is scored."""
        return int(self.min_history)  # type: ignore[arg-type]

    def _lags(self, values: pd.DataFrame) -> tuple[int, int]:
        """(step, count): the history is the values step, 2*step, ... count*step rows back."""
        step = periods_per_year(values.index.freq) if self.seasonal else 1
        return step, self.span

    def history(self, values: pd.DataFrame) -> pd.DataFrame:
        """Present history values behind each cell (what `min_history` is compared with)."""
        counts = _history_counts(np.isfinite(values.to_numpy(dtype=float)), *self._lags(values))
        return pd.DataFrame(counts, index=values.index, columns=values.columns)

    def mask(self, values: pd.DataFrame) -> pd.DataFrame:
        """True where the value is unusual for its history."""
        return pd.DataFrame(self.scan(values).mask, index=values.index, columns=values.columns)

    def scan(self, values: pd.DataFrame) -> Scan:
        """Mask, the history median as reference, and z and the history count as evidence."""
        raw = values.to_numpy(dtype=float)
        median, z, history = robust_scores(raw, *self._lags(values), min_history=self.history_needed)
        with np.errstate(invalid="ignore"):
            if self.direction == "above":
                mask = z > self.threshold
            elif self.direction == "below":
                mask = z < -self.threshold
            else:
                mask = np.abs(z) > self.threshold
        return Scan(mask=mask, reference=median, evidence={"z": z, "history": history})

    def short_history(self, values: pd.DataFrame) -> list[HistoryShortfall]:
        """Series whose newest value has too little history to be scored, in column order.

        A CLI prints them as "X: needs 36 months of history, has 20". Series with no value at
        all are not listed: there is nothing to score.
        """
        raw = values.to_numpy(dtype=float)
        counts = _history_counts(np.isfinite(raw), *self._lags(values))
        rows = last_valid_rows(raw)
        cols = np.flatnonzero(rows >= 0)
        have = counts[rows[cols], cols]
        short = have < self.history_needed
        return [
            HistoryShortfall(
                series=str(values.columns[j]),
                period=values.index[rows[j]],
                needed=self.history_needed,
                available=int(n),
                seasonal=self.seasonal,
            )
            for j, n in zip(cols[short].tolist(), have[short].tolist(), strict=True)
        ]

    def params(self) -> dict[str, Any]:
        """The resolved parameters, for finding details."""
        params: dict[str, Any] = {"threshold": self.threshold, "direction": self.direction}
        if self.seasonal:
            params |= {"seasonal": True, "years": self.years}
        else:
            params["window"] = self.window
        return params | {"min_history": self.min_history}

    def describe(self, cell: Cell) -> str:
        """Sentence such as: X fell 35.2% YoY in 2015-01, unusually low against the previous 36
        months (median +8.5%, robust z -4.2). Seasonal: "... against the same month of the
        previous 5 years ...".
        """
        z = float(cell.details["z"])
        freq = cell.period.freq
        noun = period_noun(freq)
        against = f"the previous {self.window} {noun}s"
        if self.seasonal:
            same = "" if noun == "year" else f"the same {noun} of "
            against = f"{same}the previous {self.years} years"
        median = bound_phrase(round(cell.reference, 1), cell.transform)
        return (
            f"{cell.subject} {value_phrase(cell.value, cell.transform, freq, **cell.transform_params)} "
            f"in {cell.period}, unusually {'high' if z > 0 else 'low'} against {against} "
            f"(median {median}, robust z {z:+.1f})."
        )


def _history_counts(finite: np.ndarray, step: int, count: int) -> np.ndarray:
    """Present values among the `count` lags step, 2*step, ... behind each cell."""
    rows = finite.shape[0]
    counts = np.zeros(finite.shape, dtype=np.int32)
    if step == 1:
        totals = np.zeros((rows + 1, finite.shape[1]), dtype=np.int32)
        np.cumsum(finite, axis=0, dtype=np.int32, out=totals[1:])
        starts = np.maximum(np.arange(rows) - count, 0)
        np.subtract(totals[:-1], totals[starts], out=counts)
        return counts
    for lag in range(step, min(step * count, rows - 1) + 1, step):
        counts[lag:] += finite[: rows - lag]
    return counts


def robust_scores(
    raw: np.ndarray, step: int, count: int, *, min_history: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(median, z, history) for every cell of a 2-D array; NaN where a cell is not scored.

    The history of row t is rows t - step, t - 2*step, ... t - count*step of the same column.
    Work goes block of columns by block of columns, so every intermediate stays small and each
    output cell is written once. Blocks are independent and numpy releases the GIL inside its
    loops, so a couple of threads share them (the result does not depend on the order).
    """
    rows, cols = raw.shape
    median = np.empty(raw.shape)
    z = np.empty(raw.shape)
    history = np.empty(raw.shape, dtype=np.int32)
    if step == 1:
        block, stats = _SLIDING_BLOCK, _sliding_stats
    else:
        block, stats = max(1, _SEASONAL_BYTES // (8 * count * max(rows, 1))), _seasonal_stats

    def score_block(start: int) -> None:
        part = slice(start, min(start + block, cols))
        x = raw[:, part]
        finite = np.isfinite(x)
        counts = _history_counts(finite, step, count)
        history[:, part] = counts
        scored = (counts >= min_history) & finite
        if not scored.any():
            median[:, part] = np.nan
            z[:, part] = np.nan
            return
        # Missing values become +inf, so they sort last and the first `n` sorted values are real.
        clean = np.where(finite, x, np.inf)
        med, scale = stats(clean, step, count, counts, scored)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            score = x - med
            score /= scale
        score[np.isinf(score)] = np.nan  # an overflow, never a score
        median[:, part] = med
        z[:, part] = score

    starts = range(0, cols, block)
    workers = min(_MAX_WORKERS, os.cpu_count() or 1, len(starts))
    if workers <= 1:
        for start in starts:
            score_block(start)
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for _ in pool.map(score_block, starts):
                pass  # re-raises the first error of any block
    return median, z, history


def _seasonal_stats(
    clean: np.ndarray, step: int, count: int, history: np.ndarray, scored: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Median and scale from the same period of previous years, sorted by a small network."""
    rows, cols = clean.shape
    reach = step * count
    padded = np.concatenate([np.full((reach, cols), np.inf), clean])
    lagged = [padded[reach - step * i : reach - step * i + rows] for i in range(1, count + 1)]
    ordered = np.stack(_sort_network(lagged)).reshape(count, -1)
    median, scale = _median_scale(ordered, history.ravel(), scored.ravel())
    return median.reshape(rows, cols), scale.reshape(rows, cols)


def _sort_network(arrays: list[np.ndarray]) -> list[np.ndarray]:
    """Sort equal-shaped arrays element-wise with an odd-even transposition network.

    Each comparator is one np.minimum and one np.maximum over whole arrays: for the few
    seasonal lags this beats np.sort along a short strided axis many times over.
    """
    out = list(arrays)
    for phase in range(len(out)):
        for i in range(phase % 2, len(out) - 1, 2):
            out[i], out[i + 1] = np.minimum(out[i], out[i + 1]), np.maximum(out[i], out[i + 1])
    return out


def _sliding_stats(
    clean: np.ndarray, step: int, count: int, history: np.ndarray, scored: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Median and scale from the previous `count` values, one sorted window per column.

    The windows slide down the rows together: read the statistics, drop the value leaving
    (larger ones shift left), insert the value arriving (larger ones shift right). Each step
    touches a (window x block) array that stays in cache.
    """
    rows, cols = clean.shape
    window = count
    median = np.full((rows, cols), np.nan)
    scale = np.full((rows, cols), np.nan)
    any_scored: np.ndarray = np.any(scored, axis=1)
    state = np.full((window, cols), np.inf)
    smaller = np.empty((window - 2, cols))
    keep = np.empty((window - 1, cols), dtype=bool)
    leaving = np.full(cols, np.inf)
    for t in range(rows):
        if any_scored[t]:
            median[t], scale[t] = _median_scale(state, history[t], scored[t])
        if t >= window:
            leaving = clean[t - window]
        arriving = clean[t]
        np.less(state[:-1], leaving, out=keep)
        shorter = np.where(keep, state[:-1], state[1:])
        np.minimum(shorter[1:], arriving, out=smaller)
        np.maximum(shorter[:-1], smaller, out=state[1:-1])
        np.minimum(shorter[0], arriving, out=state[0])
        np.maximum(shorter[-1], arriving, out=state[-1])
    return median, scale


def _median_scale(
    ordered: np.ndarray, counts: np.ndarray, scored: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Median and z scale of each sorted column with `counts` real values; NaN where unscored.

    Columns are grouped by their count, so each group is read with plain slices.
    """
    span = ordered.shape[0]
    full = scored & (counts == span)
    with np.errstate(invalid="ignore", over="ignore"):
        # Every column is read as if full (cheap slices), then only full columns keep the result.
        median, mad = _median_mad(ordered, span)
        median = np.where(full, median, np.nan)
        mad = np.where(full, mad, np.nan)
        partial = scored & ~full
        for n in np.unique(counts[partial]).tolist() if partial.any() else []:
            cells_n = np.flatnonzero(partial & (counts == n))
            median[cells_n], mad[cells_n] = _median_mad(ordered[:n, cells_n], n)
        median[np.isinf(median)] = np.nan  # an overflow of the two middle values
        scale = mad / CONSISTENCY
        flat = np.flatnonzero(mad == 0)
        if len(flat):
            n = counts[flat]
            deviation = np.abs(ordered[:, flat] - median[flat])
            deviation[np.arange(span)[:, None] >= n] = 0.0
            mean_ad = deviation.sum(axis=0) / n
            scale[flat] = np.where(mean_ad > 0, MEAN_AD_FACTOR * mean_ad, np.nan)
    return median, scale


def _median_mad(ordered: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Median and MAD of columns whose first `n` rows are sorted real values.

    The k-th smallest distance from the median is the narrowest of the blocks of k neighbours
    in sorted order: min over a of max(m - s[a], s[a + k - 1] - m). The MAD is the mean of the
    two middle distances (k = n/2 and n/2 + 1; one, k = (n + 1)/2, when n is odd), as
    np.median would give; both reuse the same differences.
    """
    median = 0.5 * (ordered[(n - 1) // 2] + ordered[n // 2])
    k = (n + 1) // 2
    below = median - ordered[: n - k + 1]  # m - s[a], a = 0 .. n - k
    above = ordered[k - 1 : n] - median  # s[a + k - 1] - m
    mad = np.maximum(below, above).min(axis=0)
    if n % 2 == 0:
        mad = 0.5 * (mad + np.maximum(below[:-1], above[1:]).min(axis=0))  # pairs (a, a + k)
    return median, mad
