"""Change points: where a series moved to a new level (or trend) and stayed there.

The only module that imports ruptures. Each call builds fresh ruptures estimators (they keep
per-instance state and memo caches), one per series; PELT with the l2 or linear cost and
jump 1 runs instead on all series at once through `detectors.pelt`, which returns the same
breakpoints and hands back the rare series it cannot certify, recomputed here by ruptures.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from detectors import validate
from detectors.base import Cell, CellValues, Evidence, Scan
from detectors.errors import DetectorConfigError
from detectors.findings import FindingKind
from detectors.lazy import lazy
from detectors.pelt import MIN_SIZE, PeltCost, pelt
from detectors.segments import Compact, Regimes, compact, regimes, standardize
from detectors.transforms import transform_label, value_kind
from detectors.wording import shift_phrase, trend_break_phrase

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import ruptures as rpt
else:
    np = lazy("numpy")
    pd = lazy("pandas")
    rpt = lazy("ruptures")

Method = Literal["pelt", "binseg", "bottomup", "window", "dynp"]
Cost = Literal["l1", "l2", "rbf", "normal", "linear"]
METHODS: tuple[Method, ...] = ("pelt", "binseg", "bottomup", "window", "dynp")
COSTS: tuple[Cost, ...] = ("l1", "l2", "rbf", "normal", "linear")
PER_BREAK = 3.0  # log(n) units of -2 log-likelihood charged per break (see Changepoint)
_COST_FLOOR = {"l1": 2, "l2": 1, "rbf": 1, "normal": 2, "linear": 2}  # ruptures' own minimum


@dataclass(frozen=True, slots=True)
class Changepoint:
    """Finds the periods where a series entered a new regime: a shift in level, or with
    cost "linear" (the default) a break in a trend line, found by ruptures.

    Defaults, chosen so that one rule suits any series without tuning:
    - cost "linear": each regime is a straight line. Trade values grow and shrink for years;
      a constant-level model cuts a steady trend into a staircase of false breaks.
    - penalty: 3 log(n) per break on the series divided by the residual standard deviation
      of the no-change model (one line over the whole series). 3 log(n) is the BIC charge of
      a break in a line (its location, intercept and slope) and the MBIC charge of a mean
      shift (Zhang and Siegmund 2007). The unit matters more than the constant: the MAD of
      first differences measures only month-to-month noise, which in persistent series
      (cycles, seasonality, random-walk-like prices) is far below the variation a single
      regime shows without any break, so it cuts such series into dozens of pieces. The
      no-change residual errs the other way, being inflated by the breaks themselves, so
      only a break that explains a material share of the variance (3 log(n) / n of it, 7%
      for 20 years of months) is kept. An explicit `penalty` uses the same unit, so one
      value fits series of any size.
    - min_size 6: half a year of monthly data; one or two odd releases (a Jan+Feb combined
      figure, a revision) cannot form a regime of their own.
    - recent 12: a break is news for its first year of periods; the latest period is flagged
      while the newest break lies among the last `recent` periods.
    Costs l2 and normal use the same rule (mean; mean and variance); l1 scales it by half
    the mean absolute deviation (the Laplace scale); rbf by the no-change cost per value.
    """

    kind: ClassVar[str] = "changepoint"
    finding_kind: ClassVar[FindingKind] = "event"
    method: Method = "pelt"
    cost: Cost = "linear"
    penalty: float | None = None
    min_size: int = 6
    jump: int = 1
    recent: int = 12
    width: int | None = None

    def __post_init__(self) -> None:
        validate.choice(self.kind, "method", self.method, METHODS)
        validate.choice(self.kind, "cost", self.cost, COSTS)
        if self.penalty is not None:
            penalty = validate.finite_number(self.kind, "penalty", self.penalty)
            if penalty <= 0:
                raise DetectorConfigError(f"{self.kind}.penalty must be > 0, got {self.penalty!r}")
            object.__setattr__(self, "penalty", penalty)
        object.__setattr__(self, "min_size", validate.positive_int(self.kind, "min_size", self.min_size))
        object.__setattr__(self, "jump", validate.positive_int(self.kind, "jump", self.jump))
        object.__setattr__(self, "recent", validate.positive_int(self.kind, "recent", self.recent))
        if self.width is not None:
            if self.method != "window":
                raise DetectorConfigError(f"{self.kind}.width applies to method 'window' only")
            object.__setattr__(self, "width", validate.int_at_least(self.kind, "width", self.width, 2))

    @property
    def effective_min_size(self) -> int:
        """min_size raised to what the cost needs (ruptures does the same silently)."""
        return max(self.min_size, _COST_FLOOR[self.cost])

    def breaks(self, values: pd.DataFrame) -> Breaks:
        """Every break of every column, with the regime means around it."""
        data = compact(values.to_numpy(dtype=float))
        ms = self.effective_min_size
        z, ok = standardize(data, trend=self.cost == "linear", min_length=ms)
        penalty = np.full(z.shape[1], np.nan)
        column, position = self._segment(data, z, ok, penalty)
        return Breaks(
            column,
            data.row_of(column, position),
            regimes(data, column, position, lines=self.cost == "linear"),
            penalty,
            data,
        )

    def _segment(
        self, data: Compact, z: np.ndarray, ok: np.ndarray, penalty: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Flat (column, position) of all breaks; fills `penalty` for segmented columns."""
        lengths, times = data.lengths, data.times()
        todo = np.flatnonzero(ok)
        if self.method == "pelt" and self.jump == 1 and self.cost in MIN_SIZE:
            penalty[todo] = self._auto(lengths[todo]) if self.penalty is None else self.penalty
            every = len(todo) == z.shape[1]  # usually: then no copy of the panel
            column, position = _pelt_flat(
                z if every else z[:, todo],
                penalty[todo],
                min_size=self.min_size,
                cost=self.cost,
                times=times if times.ndim == 1 or every else times[:, todo],
                lengths=lengths[todo],
            )
            return todo[column], position
        columns: list[np.ndarray] = [np.zeros(0, np.int64)]
        positions: list[np.ndarray] = [np.zeros(0, np.int64)]
        for col in todo.tolist():
            n = int(lengths[col])
            found, penalty[col] = self._one(z[:n, col], times[:n] if times.ndim == 1 else times[:n, col])
            columns.append(np.full(len(found), col, dtype=np.int64))
            positions.append(np.asarray(found, dtype=np.int64))
        column, position = np.concatenate(columns), np.concatenate(positions)
        order = np.lexsort((position, column))
        return column[order], position[order]

    def _auto(self, lengths: np.ndarray) -> np.ndarray:
        return PER_BREAK * np.log(lengths.astype(float))

    def _one(self, z: np.ndarray, t: np.ndarray) -> tuple[list[int], float]:
        """Breaks of one standardized series by ruptures, and the penalty used."""
        n = len(z)
        signal = _signal(z, t, self.cost)
        pen = self.penalty if self.penalty is not None else self._auto_one(signal, n)
        algo = self._estimator(n)
        try:
            if self.method == "dynp":
                bkps = _penalized_dynp(algo, signal, pen, nonnegative=self.cost != "normal")
            else:
                bkps = algo.fit(signal).predict(pen=pen)
        except rpt.exceptions.BadSegmentationParameters:
            bkps = []
        finally:
            _forget(algo)
        return [int(b) for b in bkps if b < n], pen

    def _auto_one(self, signal: np.ndarray, n: int) -> float:
        base = float(PER_BREAK * math.log(n))
        if self.cost == "l1":
            z = signal[:, 0]
            return base * float(np.mean(np.abs(z - np.median(z)))) / 2.0
        if self.cost == "rbf":
            return base * float(rpt.costs.CostRbf().fit(signal).error(0, n)) / n
        return base

    def _estimator(self, n: int) -> Any:
        """A fresh ruptures estimator; CostNormal warns on every construction, so quietly."""
        kw: dict[str, Any] = {"model": self.cost, "min_size": self.min_size, "jump": self.jump}
        factory: dict[str, Callable[..., Any]] = {
            "pelt": rpt.Pelt,
            "binseg": rpt.Binseg,
            "bottomup": rpt.BottomUp,
            "dynp": rpt.Dynp,
            "window": lambda **k: rpt.Window(width=self.width or 4 * self.effective_min_size, **k),
        }
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return factory[self.method](**kw)

    def mask(self, values: pd.DataFrame) -> pd.DataFrame:
        """True at the first period of every new regime."""
        return pd.DataFrame(self.scan(values).mask, index=values.index, columns=values.columns)

    def scan(self, values: pd.DataFrame) -> Scan:
        """Breaks in `mask`; the newest observation in `latest` while its break is recent.

        Evidence at both: the regime means before and after, the shift in percent and the
        penalty; `periods["break_period"]` the row of the break.
        """
        found = self.breaks(values)
        shape = values.shape
        col, row = found.column, found.row
        last = np.r_[col[1:] != col[:-1], True] if len(col) else np.zeros(0, dtype=bool)
        newest = found.data.row_of(col[last], found.data.lengths[col[last]] - 1)
        fresh = row[last] > newest - self.recent
        cells = (np.r_[row, newest[fresh]], np.r_[col, col[last][fresh]])  # breaks, then latest
        which = np.r_[np.arange(len(col)), np.flatnonzero(last)[fresh]]  # the break of each cell
        mask = np.zeros(shape, dtype=bool)
        mask[row, col] = True
        latest = np.zeros(shape, dtype=bool)
        latest[newest[fresh], col[last][fresh]] = True
        stats = found.regimes
        named = {"before": stats.before, "after": stats.after}
        if self.cost == "linear":
            named |= {
                "line_before": stats.line_before,
                "line_after": stats.line_after,
                "slope_before": stats.slope_before,
                "slope_after": stats.slope_after,
            }
        with np.errstate(divide="ignore", invalid="ignore"):  # per break, not over the whole panel
            named["shift_pct"] = np.where(stats.before != 0,
                                          100.0 * (stats.after - stats.before) / np.abs(stats.before), np.nan)
        # Evidence only at the cells reported (breaks and the newest periods after them).
        evidence: dict[str, Evidence] = {name: CellValues(shape, cells[0], cells[1], per_break[which])
                                         for name, per_break in named.items()}
        evidence["penalty"] = np.broadcast_to(found.penalty[None, :], shape)
        rows = CellValues(shape, cells[0], cells[1], row[which].astype(np.int32), fill=-1)
        reference = evidence["line_before" if self.cost == "linear" else "before"]
        return Scan(
            mask=mask, reference=reference, evidence=evidence, latest=latest, periods={"break_period": rows}
        )

    def params(self) -> dict[str, Any]:
        """Method, cost and the rest, for finding details ("auto" for the default penalty)."""
        params: dict[str, Any] = {
            "method": self.method,
            "cost": self.cost,
            "penalty": "auto" if self.penalty is None else self.penalty,
            "min_size": self.min_size,
            "jump": self.jump,
            "recent": self.recent,
        }
        if self.method == "window":
            params["width"] = self.width or 4 * self.effective_min_size
        return params

    def describe(self, cell: Cell) -> str:
        """Sentence such as: X shifted down 31% in January 2015: from 2,845.3 to 1,963.2 on average;
        with the linear cost: X broke trend in January 2015: 3,210.5 against 4,650.2 on the old
        trend (-31%)."""
        label = transform_label(cell.transform, cell.period.freq, **cell.transform_params)
        subject = f"{cell.subject} ({label})" if label else cell.subject
        details = cell.details
        period, kind = str(details["break_period"]), value_kind(cell.transform)
        if self.cost == "linear":
            phrase = trend_break_phrase(
                float(details["line_before"]), float(details["line_after"]), period, kind=kind
            )
        else:
            phrase = shift_phrase(float(details["before"]), float(details["after"]), period, kind=kind)
        return f"{subject} {phrase}."


@dataclass(frozen=True, slots=True)
class Breaks:
    """Breaks as flat arrays sorted by (column, row): `row` is the panel row of the first
    period of the new regime; `regimes` describes the regimes on either side."""

    column: np.ndarray
    row: np.ndarray
    regimes: Regimes
    penalty: np.ndarray  # per column; NaN where a column was not segmented
    data: Compact


def pelt_breakpoints(
    values: np.ndarray,
    penalty: np.ndarray | float,
    *,
    min_size: int,
    cost: PeltCost = "l2",
    times: np.ndarray | None = None,
    lengths: np.ndarray | None = None,
) -> list[list[int]]:
    """For every column c of `values`, exactly what
    `ruptures.Pelt(model=cost, min_size=min_size, jump=1).fit(signal).predict(pen=penalty[c])`
    returns, the signal being the column (l2) or the column with covariates 1 and `times`
    (linear). Vectorized over columns; the few columns the fast pass cannot certify are
    recomputed by ruptures. A column shorter than one segment gets `[length]`, where
    ruptures raises BadSegmentationParameters.
    """
    x = np.asarray(values, dtype=float)
    size = np.full(x.shape[1], x.shape[0], np.int64) if lengths is None else np.asarray(lengths, np.int64)
    pen = np.broadcast_to(np.asarray(penalty, dtype=float), (x.shape[1],))
    column, position = _pelt_flat(x, pen, min_size=min_size, cost=cost, times=times, lengths=size)
    out: list[list[int]] = [[] for _ in range(x.shape[1])]
    for col, pos in zip(column.tolist(), position.tolist(), strict=True):
        out[col].append(pos)
    return [[*bkps, int(n)] for bkps, n in zip(out, size.tolist(), strict=True)]


def _pelt_flat(
    x: np.ndarray,
    pen: np.ndarray,
    *,
    min_size: int,
    cost: PeltCost,
    times: np.ndarray | None,
    lengths: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Flat (column, position) of PELT's breaks, sorted; the fast pass, then ruptures for
    the columns it reports inexact."""
    fast = pelt(x, pen, min_size=min_size, cost=cost, times=times, lengths=lengths)
    sure = fast.exact[fast.column]
    columns, positions = [fast.column[sure]], [fast.position[sure]]
    t = np.arange(x.shape[0], dtype=float) if times is None else np.asarray(times, dtype=float)
    for col in np.flatnonzero(~fast.exact).tolist():
        n = int(lengths[col])
        signal = _signal(x[:n, col], t[:n] if t.ndim == 1 else t[:n, col], cost)
        algo = rpt.Pelt(model=cost, min_size=min_size, jump=1)
        try:
            bkps = [b for b in algo.fit(signal).predict(pen=float(pen[col])) if b < n]
        except rpt.exceptions.BadSegmentationParameters:
            bkps = []
        columns.append(np.full(len(bkps), col, dtype=np.int64))
        positions.append(np.asarray(bkps, dtype=np.int64))
    column, position = np.concatenate(columns), np.concatenate(positions)
    order = np.lexsort((position, column))
    return column[order], position[order]


def _signal(z: np.ndarray, t: np.ndarray, cost: str) -> np.ndarray:
    """What ruptures segments: the values, or for the linear cost the values then the
    covariates of a line (1, time)."""
    if cost == "linear":
        return np.column_stack([z, np.ones(len(z)), t])
    return z.reshape(-1, 1)


def _penalized_dynp(algo: Any, signal: np.ndarray, pen: float, *, nonnegative: bool) -> list[int]:
    """Dynp takes a number of breaks, not a penalty: the k minimising cost + k * pen.

    With nonnegative costs, k breaks cost at least k * pen, so the search stops once that
    exceeds the best total found.
    """
    algo.fit(signal)
    n = signal.shape[0]
    best_bkps: list[int] = [n]
    best = float(algo.cost.sum_of_costs(best_bkps))
    for k in range(1, n // algo.min_size):
        if nonnegative and k * pen >= best:
            break
        try:
            bkps = algo.predict(n_bkps=k)
        except rpt.exceptions.BadSegmentationParameters:
            break
        total = float(algo.cost.sum_of_costs(bkps)) + k * pen
        if total < best:
            best, best_bkps = total, bkps
    return best_bkps


def _forget(algo: Any) -> None:
    """Empty ruptures' memo caches: they live on the class and keep every estimator alive."""
    for name in ("seg", "single_bkp", "merge"):
        cached = getattr(type(algo), name, None)
        if cached is not None and hasattr(cached, "cache_clear"):
            cached.cache_clear()
