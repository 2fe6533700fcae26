"""Exact PELT for the l2 and linear costs, over many series at once.

It reproduces `ruptures.Pelt(model=..., min_size=m, jump=1).fit(x).predict(pen=p)` column by
column: the same admissible points ({0} and every t >= m, a segment at least m long), the
same pruning after every step (keep t while F[t] + cost(t, b) <= F[b], which is what ruptures
does, including its inexactness when m > 1), the same first-minimum tie-break. Segment costs
come from cumulative sums (O(1) per candidate, each accumulated with its rounding error carried
along); the recursion runs in a compiled loop per column (`detectors.pelt_kernel`) over blocks
of columns shared by a few threads.

Cumulative sums do not round like ruptures' per-segment `var`. A decision is trusted only when
its margin exceeds a bound on the rounding of both computations (`_tolerance`): a pruning
decision closer than that keeps the candidate and follows it, and if it ever comes near the
minimum, or a change point on the chosen path has a rival closer than the bound, the column
is reported inexact and the caller recomputes it with ruptures. So equal output is guaranteed
where `exact` is True, and the remainder is rare (near-ties, integer data with exact ties).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from detectors.blocks import over_blocks
from detectors.lazy import lazy

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy("numpy")

PeltCost = Literal["l2", "linear"]
MIN_SIZE: dict[PeltCost, int] = {"l2": 1, "linear": 2}  # ruptures' own floor per cost
_CHUNK = 1024  # columns per block: one block per task, enough blocks to share the cores
_EPS = sys.float_info.epsilon
_LARGE = 1e100  # values beyond this (or not finite) could overflow a squared sum: left to ruptures


@dataclass(frozen=True, slots=True)
class Breaks:
    """Change points of many columns as flat arrays, sorted by (column, position).

    `position` is the index (within the column's first `lengths[column]` values) of the first
    value of a new regime; `exact[c]` says column c provably equals ruptures.
    """

    column: np.ndarray
    position: np.ndarray
    exact: np.ndarray

    def ends(self, lengths: np.ndarray) -> list[list[int]]:
        """Per column, ruptures' output format: segment ends, the last being the length."""
        out: list[list[int]] = [[] for _ in range(len(self.exact))]
        for col, pos in zip(self.column.tolist(), self.position.tolist(), strict=True):
            out[col].append(pos)
        return [[*bkps, int(n)] for bkps, n in zip(out, lengths.tolist(), strict=True)]


def pelt(
    values: np.ndarray,
    penalty: np.ndarray,
    *,
    min_size: int,
    cost: PeltCost = "l2",
    times: np.ndarray | None = None,
    lengths: np.ndarray | None = None,
    workers: int | None = None,
) -> Breaks:
    """Optimal penalized segmentation of each column of `values` (n, S).

    Column c is `values[:lengths[c], c]` (default: all n rows; later rows are ignored), with
    penalty `penalty[c]`. The linear cost regresses each segment on (1, time); `times` gives
    the time of every value, shape (n,) or (n, S), default 0..n-1. Columns shorter than the
    effective minimum segment length have no admissible segmentation: no breaks, exact.
    """
    y = np.asarray(values, dtype=float)
    if y.ndim != 2:
        raise ValueError(f"values must be 2-D (n, series), got shape {y.shape}")
    n, width = y.shape
    pen = np.broadcast_to(np.asarray(penalty, dtype=float), (width,))
    size = np.full(width, n, dtype=np.int64) if lengths is None else np.asarray(lengths, np.int64)
    t = np.arange(n, dtype=float) if times is None else np.asarray(times, dtype=float)
    ms = max(int(min_size), MIN_SIZE[cost])

    def run(lo: int, hi: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        tt = t if t.ndim == 1 else t[:, lo:hi]
        return _segment_block(y[:, lo:hi], size[lo:hi], pen[lo:hi], ms, cost, tt)

    parts = over_blocks(width, _CHUNK, run, workers)
    starts = range(0, width, _CHUNK)
    empty = np.zeros(0, dtype=np.int64)
    column = np.concatenate([empty, *(p[0] + lo for p, lo in zip(parts, starts, strict=True))])
    position = np.concatenate([empty, *(p[1] for p in parts)])
    exact = np.concatenate([np.zeros(0, dtype=bool), *(p[2] for p in parts)])
    order = np.lexsort((position, column))
    return Breaks(column[order].astype(np.int64), position[order].astype(np.int64), exact)


def _centre(a: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Subtract the mean of the valid entries; invalid entries become 0."""
    mean = np.where(valid, a, 0.0).sum(axis=0) / np.maximum(valid.sum(axis=0), 1)
    return np.where(valid, a - mean, 0.0)


def _prepare(
    x: np.ndarray, valid: np.ndarray, pen: np.ndarray, ms: int, cost: PeltCost, t: np.ndarray
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """The centred data and times (both costs ignore a shift of y or t; the kernel sums them)
    and the tolerance."""
    y = _centre(x, valid)
    tt = None
    if cost == "linear":
        tt = t.reshape(len(t), -1)
        tt = _centre(tt, valid if tt.shape[1] > 1 else np.ones(tt.shape, dtype=bool))
    return y, tt, _tolerance(x, y, valid, pen, ms, tt)


def _tolerance(
    x: np.ndarray, y: np.ndarray, valid: np.ndarray, pen: np.ndarray, ms: int, tt: np.ndarray | None
) -> np.ndarray:
    """Per column, a bound on how far our value of any compared quantity can be from
    ruptures', both being rounded versions of the same real number.

    First-order rounding analysis, u the unit roundoff, y the centred column (A = sum |y|,
    M = max |y|, S = sum y**2) and F = S + (n / ms + 1) * pen bounding every partial cost:
    - ours: a cumulative sum is within about u of exact, so a segment's explained sum of
      squares is within 8u(A M + S) and F[t] - Q[t] adds 8u F; errors add along the chain
      of at most n / ms + 1 segments behind a value. The linear cost also rounds the time
      sums (|t| <= T): 12u sqrt(S) T A / sqrt(V) + 48u (T / ms)**2 S, V the smallest
      variance of the times of a segment (that of ms consecutive integers).
    - ruptures': a segment variance is within (log2 n + 5)u of exact, plus the square of
      the rounding of the segment mean of the raw data (m (log2 n + 1)**2 u**2 max|x|**2);
      the same chain of sums.
    The result is doubled.
    """
    n = x.shape[0]
    u = _EPS / 2
    absy = np.abs(y)
    big_a, big_m, big_s = absy.sum(axis=0), absy.max(axis=0, initial=0.0), (y * y).sum(axis=0)
    big_f = big_s + (n / ms + 1.0) * pen
    raw = np.where(valid, np.abs(x), 0.0).max(axis=0, initial=0.0)
    log_n = np.log2(max(n, 2))
    link = 8 * u * (big_a * big_m + big_s + big_f) + (log_n + 5) * u * big_s + u * big_f
    if tt is not None:
        t_max = np.abs(tt).max(axis=0, initial=0.0)
        v_min = ms * (ms * ms - 1) / 12.0
        link = link + 12 * u * np.sqrt(big_s) * t_max * big_a / np.sqrt(v_min)
        link = link + 48 * u * (t_max / ms) ** 2 * big_s
    chain = n / ms + 2.0
    return 2.0 * (chain * link + n * ((log_n + 1) * u * raw) ** 2)


def _segment_block(
    x: np.ndarray, size: np.ndarray, pen: np.ndarray, ms: int, cost: PeltCost, t: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One block through the compiled recursion; flat (column, position) and exactness."""
    from detectors.pelt_kernel import segment_block  # numba compiles on first use, not on import

    n, width = x.shape
    valid = np.arange(n)[:, None] < size[None, :]
    x = np.where(valid, x, 0.0)
    with np.errstate(over="ignore", invalid="ignore"):  # only in columns left to ruptures (below)
        y, tt, tol = _prepare(x, valid, pen, ms, cost, t)
    breaks = np.zeros((width, n // ms + 1), dtype=np.int64)
    counts = np.zeros(width, dtype=np.int64)
    exact = np.zeros(width, dtype=bool)
    segment_block(
        y,
        np.zeros((1, 1)) if tt is None else tt,
        np.minimum(size, n).astype(np.int64),
        np.ascontiguousarray(pen, dtype=float),
        np.ascontiguousarray(tol, dtype=float),
        ms,
        cost == "linear",
        breaks,
        counts,
        exact,
    )
    tame = (np.abs(x) <= _LARGE).all(axis=0)  # False for NaN too
    if not tame.all():  # no rounding bound holds (or a sum of squares overflows): ruptures decides
        counts[~tame], exact[~tame] = 0, False
    column = np.repeat(np.arange(width, dtype=np.int64), counts)
    position = breaks[np.arange(breaks.shape[1])[None, :] < counts[:, None]]
    return column, position, exact
