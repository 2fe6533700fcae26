"""Compiled loops behind `detectors.robust`: median and MAD of each cell's history.

They work on a block of series at once with the series innermost, so each step is the same
min/max operations in every column and the compiler runs several columns per instruction.
Each column of `state` is one series' history, sorted, missing values as +inf (sorted last):
the trailing window slides (remove the value leaving, merge in the value arriving), the
same period of previous years is gathered and put in order by a sorting network. The median
is read off the middle; the MAD is the narrowest block of half the values around it.
"""

from __future__ import annotations

import math

import numpy as np

from detectors.jit import compiled

CONSISTENCY = 0.6745  # MAD / 0.6745 estimates the standard deviation of normal data
MEAN_AD_FACTOR = 1.253314  # sqrt(pi / 2), the same role for the mean absolute deviation


@compiled
def _narrowest(s, n, k, median):
    """min over a of max(median - s[a], s[a + k - 1] - median): the k-th smallest distance
    from the median (the partial-history and zero-MAD path; full blocks are done in bulk)."""
    best = np.inf
    for a in range(n - k + 1):
        d = max(median - s[a], s[a + k - 1] - median)
        best = d if d < best else best
    return best


@compiled
def _median_scale(s, n):
    """Median of the sorted `s[:n]` and the z scale: MAD / 0.6745, or when the MAD is 0,
    1.253314 x the mean absolute deviation from the median, NaN when that is 0 too."""
    median = 0.5 * (s[(n - 1) // 2] + s[n // 2])
    if math.isinf(median):  # the two middle values overflowed
        return np.nan, np.nan
    # The k-th smallest distance from the median is the narrowest block of k neighbours in
    # sorted order: min over a of max(m - s[a], s[a + k - 1] - m). With n even the MAD averages
    # the k-th and (k + 1)-th, k = n / 2; with n odd it is the k-th, k = (n + 1) / 2.
    k = (n + 1) // 2
    mad = _narrowest(s, n, k, median)
    if n % 2 == 0:
        mad = 0.5 * (mad + _narrowest(s, n, k + 1, median))
    if mad > 0:
        return median, mad / CONSISTENCY
    total = 0.0
    for i in range(n):
        total += abs(s[i] - median)
    mean_ad = total / n
    return median, (MEAN_AD_FACTOR * mean_ad if mean_ad > 0 else np.nan)


@compiled
def _score_row(t, x, state, present, w, min_history, median, z, history, scratch):
    """Score row t of a block whose sorted histories are the columns of `state` (`present[j]`
    real values first, +inf after). Full histories (all w present) take the vectorized path:
    median and the MAD as the narrowest block, across the columns at once; the others, and
    a zero MAD (mean-deviation fallback), go column by column through `_median_scale`."""
    width = x.shape[1]
    k = (w + 1) // 2
    med, mad, wider = scratch[0], scratch[1], scratch[2]
    column = scratch[3]
    for j in range(width):
        med[j] = 0.5 * (state[(w - 1) // 2, j] + state[w // 2, j])
        mad[j] = np.inf
        wider[j] = np.inf
    for a in range(w - k + 1):
        for j in range(width):
            below, above = med[j] - state[a, j], state[a + k - 1, j] - med[j]
            d = below if below > above else above
            mad[j] = d if d < mad[j] else mad[j]
    if w % 2 == 0:
        for a in range(w - k):
            for j in range(width):
                below, above = med[j] - state[a, j], state[a + k, j] - med[j]
                d = below if below > above else above
                wider[j] = d if d < wider[j] else wider[j]
    for j in range(width):
        size = present[j]
        history[t, j] = size
        value = x[t, j]
        m, scale = np.nan, np.nan
        if size >= min_history and size > 0 and math.isfinite(value):
            spread = mad[j] if w % 2 == 1 else 0.5 * (mad[j] + wider[j])
            if size == w and not math.isinf(med[j]) and spread > 0:
                m, scale = med[j], spread / CONSISTENCY
            else:
                for i in range(size):
                    column[i] = state[i, j]
                m, scale = _median_scale(column, size)
        score = (value - m) / scale
        median[t, j] = m
        z[t, j] = np.nan if math.isinf(score) else score


@compiled
def sliding_block(x, count, min_history, median, z, history):
    """The trailing window (step 1) for a block of columns at once, columns innermost.

    Every column's sorted window is a column of `state` (missing values as +inf, sorted
    last), and each period removes the value leaving and merges in the value arriving with
    min/max only, the same operations in every column: no branch depends on the data, and
    the compiler runs four columns per instruction.
    """
    n, width = x.shape
    w = count
    state = np.full((w, width), np.inf)
    shorter = np.empty((max(w - 1, 1), width))
    present = np.zeros(width, dtype=np.int64)
    scratch = np.empty((4, max(width, w + 1)))
    leave = np.empty(width)
    arrive = np.empty(width)
    for t in range(n):
        _score_row(t, x, state, present, w, min_history, median, z, history, scratch)
        # Slide: remove the value leaving (the first entry not below it), merge in the new one.
        for j in range(width):
            out = x[t - w, j] if t >= w else np.inf
            leave[j] = out if math.isfinite(out) else np.inf
            arrive[j] = x[t, j] if math.isfinite(x[t, j]) else np.inf
            present[j] += (arrive[j] < np.inf) - (leave[j] < np.inf)
        for i in range(w - 1):
            for j in range(width):
                shorter[i, j] = state[i, j] if state[i, j] < leave[j] else state[i + 1, j]
        if w == 1:
            for j in range(width):
                state[0, j] = arrive[j]
            continue
        for j in range(width):
            first, last, new = shorter[0, j], shorter[w - 2, j], arrive[j]
            state[0, j] = first if first < new else new
            state[w - 1, j] = last if last > new else new
        for i in range(1, w - 1):  # max(shorter[i - 1], min(shorter[i], new)), as selects
            for j in range(width):
                low, high, new = shorter[i - 1, j], shorter[i, j], arrive[j]
                high = high if high < new else new
                state[i, j] = low if low > high else high


@compiled
def lagged_block(x, step, count, min_history, median, z, history):
    """The same period of previous years (rows t - step, ..., t - count * step) for a block of
    columns at once: gathered, sorted by an odd-even transposition network (min/max only,
    across the columns), then scored like the trailing window."""
    n, width = x.shape
    w = count
    state = np.empty((w, width))
    present = np.zeros(width, dtype=np.int64)
    scratch = np.empty((4, max(width, w + 1)))
    for t in range(n):
        for j in range(width):
            present[j] = 0
        for i in range(w):
            r = t - (i + 1) * step
            for j in range(width):
                v = x[r, j] if r >= 0 else np.inf
                ok = math.isfinite(v)
                state[i, j] = v if ok else np.inf
                present[j] += ok
        for phase in range(w):
            for i in range(phase % 2, w - 1, 2):
                for j in range(width):
                    lo, hi = state[i, j], state[i + 1, j]
                    state[i, j] = lo if lo < hi else hi
                    state[i + 1, j] = hi if lo < hi else lo
        _score_row(t, x, state, present, w, min_history, median, z, history, scratch)
