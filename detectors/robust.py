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
(remove the value leaving, merge in the value arriving) or, for the short seasonal history,
a sorting network per period, both with min/max only, for a block of series at once; the median is read
off the middle and the MAD is the narrowest block of half the values around it
(`detectors.robust_kernel`), which flags each cell as it scores it. The cost grows with
`window`; the seasonal form reads only `years` values per cell.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from detectors import validate
from detectors.base import Cell, Scan, last_valid_rows
from detectors.blocks import over_blocks
from detectors.errors import DetectorConfigError
from detectors.findings import FindingKind
from detectors.lazy import lazy
from detectors.panel import FreqLike, periods_per_year
from detectors.transforms import bound_phrase, value_phrase
from detectors.wording import period_name, period_noun

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    np = lazy("numpy")
    pd = lazy("pandas")

RobustDirection = Literal["above", "below", "both"]

DEFAULT_WINDOW = 36
DEFAULT_YEARS = 5
_BLOCK = 256  # series scored together: their sorted histories stay in a core's cache
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
        median, z, history, mask = robust_scores(
            raw,
            *self._lags(values),
            min_history=self.history_needed,
            threshold=self.threshold,
            direction=self.direction,
        )
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
        """Sentence such as: X fell 35.2% YoY in January 2015, unusually low against the previous 36
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
            f"in {period_name(cell.period)}, unusually {'high' if z > 0 else 'low'} against {against} "
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


_SIDES: dict[RobustDirection, int] = {"above": 1, "below": -1, "both": 0}


def robust_scores(
    raw: np.ndarray,
    step: int,
    count: int,
    *,
    min_history: int,
    threshold: float = math.inf,
    direction: RobustDirection = "both",
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(median, z, history, mask) for every cell of a 2-D array; NaN where a cell is not scored.

    The history of row t is rows t - step, t - 2*step, ... t - count*step of the same column;
    the mask is z beyond `threshold` on the `direction` side. Compiled loops
    (`detectors.robust_kernel`) score and flag blocks of columns, working across the columns
    of a block, so no panel-sized temporary follows them. Blocks share a few threads (the
    loops hold no GIL), and no block depends on another.
    """
    from detectors.robust_kernel import lagged_block, sliding_block

    x = np.asarray(raw, dtype=float)
    rows, cols = x.shape
    median, z = np.empty((rows, cols)), np.empty((rows, cols))
    history = np.empty((rows, cols), dtype=np.int32)
    mask = np.empty((rows, cols), dtype=bool)
    flag = (float(threshold), _SIDES[direction])
    out = median, z, history, mask

    def score_block(lo: int, hi: int) -> None:
        # The kernels run across the columns of a block: a row-major copy of it in, its columns
        # of the row-major results out.
        part = np.ascontiguousarray(x[:, lo:hi])
        if step == 1:
            sliding_block(part, count, min_history, flag, out, lo)
        else:
            lagged_block(part, step, count, min_history, flag, out, lo)

    over_blocks(cols, _BLOCK, score_block, min(_MAX_WORKERS, os.cpu_count() or 1))
    return median, z, history, mask
