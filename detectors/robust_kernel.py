"""Compiled loops behind `detectors.robust`: median and MAD of each cell's history.

They work on a block of series at once with the series innermost, so each step is the same
min/max operations in every column and the compiler runs several columns per instruction.
Each column of `state` is one series' history, sorted, missing values as +inf (sorted last):
the trailing window slides (remove the value leaving, merge in the value arriving), the
same period of previous years is gathered and put in order by a sorting network. The median
is read off the middle; the MAD is the narrowest block of half the values around it. The
same pass writes the median, z, the history count and the flag of every cell, so a scan
leaves no panel-sized temporary behind it.
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
def _spreads(state, w, med, spread, wider):
    """Median and MAD of every full column of `state`, across the columns at once: the MAD is
    the narrowest block of k = (w + 1) // 2 values around the median, with w even the mean of
    that and the narrowest block of k + 1. The block of k + 1 starting at a ends where the
    block of k starting at a + 1 ends, so each pass reads the ends once for both, and takes
    two starts (fewer loads and stores of the running minima)."""
    width = med.shape[0]
    k = (w + 1) // 2
    even = w % 2 == 0
    last = w - k  # the last start of a block of k; blocks of k + 1 start up to last - 1
    for j in range(width):
        m = 0.5 * (state[(w - 1) // 2, j] + state[w // 2, j])
        med[j] = m
        low, high = m - state[0, j], state[k - 1, j] - m
        spread[j] = low if low > high else high  # the block of k starting at 0
        wider[j] = np.inf
    a = 0
    while a + 2 <= last:  # blocks of k at a + 1 and a + 2, of k + 1 at a and a + 1
        for j in range(width):
            m = med[j]
            low0, low1, low2 = m - state[a, j], m - state[a + 1, j], m - state[a + 2, j]
            high1, high2 = state[a + k, j] - m, state[a + k + 1, j] - m
            d1 = low1 if low1 > high1 else high1
            d2 = low2 if low2 > high2 else high2
            best = d1 if d1 < spread[j] else spread[j]
            spread[j] = d2 if d2 < best else best
            if even:
                e0 = low0 if low0 > high1 else high1
                e1 = low1 if low1 > high2 else high2
                best = e0 if e0 < wider[j] else wider[j]
                wider[j] = e1 if e1 < best else best
        a += 2
    if a < last:  # the block of k at a + 1 = last, of k + 1 at a
        for j in range(width):
            m = med[j]
            low0, low1, high1 = m - state[a, j], m - state[a + 1, j], state[a + k, j] - m
            d1 = low1 if low1 > high1 else high1
            spread[j] = d1 if d1 < spread[j] else spread[j]
            if even:
                e0 = low0 if low0 > high1 else high1
                wider[j] = e0 if e0 < wider[j] else wider[j]
    if even:
        for j in range(width):
            spread[j] = 0.5 * (spread[j] + wider[j])


@compiled
def _score_row(t, x, state, present, w, min_history, flag, out, lo, scratch):
    """Score row t of a block whose sorted histories are the columns of `state` (`present[j]`
    real values first, +inf after), and flag it by `flag` = (threshold, side): side 1 flags z
    above the threshold, -1 below minus it, 0 either. Full histories with a nonzero MAD take
    the vectorized path (`_spreads`, then one select-only pass over the columns); the others,
    and a zero MAD (mean-deviation fallback), are redone column by column through
    `_median_scale`. A row where no column has `min_history` values skips the statistics:
    nothing there is scored. Results go to columns lo, lo + 1, ... of the whole-panel arrays
    `out` = (median, z, history, mask): row-major, their rows are written with vector stores."""
    width = x.shape[1]
    threshold, side = flag
    median, z, history, mask = out
    most = 0
    for j in range(width):
        history[t, lo + j] = present[j]
        most = present[j] if present[j] > most else most
    if most < min_history or most == 0:
        for j in range(width):
            median[t, lo + j] = np.nan
            z[t, lo + j] = np.nan
            mask[t, lo + j] = False
        return
    med, spread, column = scratch[0], scratch[1], scratch[3]
    _spreads(state, w, med[:width], spread[:width], scratch[2, :width])
    pending = 0  # columns to score one by one
    for j in range(width):
        value = x[t, j]
        size = present[j]
        fast = math.isfinite(value) and _full(size, w, med[j], spread[j])
        m = med[j] if fast else np.nan
        _put(t, lo + j, value, m, spread[j] / CONSISTENCY, threshold, side, out)
        pending += size >= min_history and size > 0 and math.isfinite(value) and not fast
    for j in range(width if pending else 0):
        size = present[j]
        value = x[t, j]
        if size < min_history or size == 0 or not math.isfinite(value) or _full(size, w, med[j], spread[j]):
            continue
        for i in range(size):
            column[i] = state[i, j]
        m, scale = _median_scale(column, size)
        _put(t, lo + j, value, m, scale, threshold, side, out)


@compiled
def _full(size, w, median, spread):
    """Whether the vectorized statistics stand: a full history, a finite median, a nonzero MAD."""
    return size == w and not math.isinf(median) and spread > 0


@compiled
def _put(t, c, value, m, scale, threshold, side, out):
    """Write cell (t, c)'s median, z = (value - m) / scale (NaN when infinite) and flag."""
    median, z, _, mask = out
    score = (value - m) / scale
    score = np.nan if math.isinf(score) else score
    median[t, c] = m
    z[t, c] = score
    beyond = abs(score) if side == 0 else side * score
    mask[t, c] = beyond > threshold


@compiled
def _slide(state, leave, arrive, previous):
    """Remove `leave` from each sorted column (the first entry not below it) and merge in
    `arrive`, in one pass down the rows with min/max only, the same operations in every column:
    entry i becomes max(shorter[i - 1], min(shorter[i], arrive)), where `shorter` is the column
    without the value leaving (carried one row behind in `previous`)."""
    w, width = state.shape
    if w == 1:
        for j in range(width):
            state[0, j] = arrive[j]
        return
    for j in range(width):
        first = state[0, j] if state[0, j] < leave[j] else state[1, j]
        previous[j] = first
        state[0, j] = first if first < arrive[j] else arrive[j]
    i = 1
    while i + 1 < w - 1:  # two entries a pass: fewer loads and stores of the carried values
        for j in range(width):
            gone, new = leave[j], arrive[j]
            here, next1, next2 = state[i, j], state[i + 1, j], state[i + 2, j]
            shorter0 = here if here < gone else next1
            shorter1 = next1 if next1 < gone else next2
            high = shorter0 if shorter0 < new else new
            low = previous[j]
            state[i, j] = low if low > high else high
            high = shorter1 if shorter1 < new else new
            state[i + 1, j] = shorter0 if shorter0 > high else high
            previous[j] = shorter1
        i += 2
    if i < w - 1:
        for j in range(width):
            shorter = state[i, j] if state[i, j] < leave[j] else state[i + 1, j]
            high = shorter if shorter < arrive[j] else arrive[j]
            low = previous[j]
            state[i, j] = low if low > high else high
            previous[j] = shorter
    for j in range(width):
        last, new = previous[j], arrive[j]
        state[w - 1, j] = last if last > new else new


@compiled
def sliding_block(x, count, min_history, flag, out, lo):
    """The trailing window (step 1) for a block of columns at once, columns innermost.

    Every column's sorted window is a column of `state` (missing values as +inf, sorted
    last), and each period removes the value leaving and merges in the value arriving with
    min/max only, the same operations in every column: no branch depends on the data, and
    the compiler runs four columns per instruction. A period where no value arrives or
    leaves in any column of the block leaves the windows as they are.
    """
    n, width = x.shape
    w = count
    state = np.full((w, width), np.inf)
    present = np.zeros(width, dtype=np.int64)
    scratch = np.empty((4, max(width, w + 1)))
    leave = np.empty(width)
    arrive = np.empty(width)
    previous = np.empty(width)
    for t in range(n):
        _score_row(t, x, state, present, w, min_history, flag, out, lo, scratch)
        moving = False
        for j in range(width):
            gone = x[t - w, j] if t >= w else np.inf
            leave[j] = gone if math.isfinite(gone) else np.inf
            arrive[j] = x[t, j] if math.isfinite(x[t, j]) else np.inf
            present[j] += (arrive[j] < np.inf) - (leave[j] < np.inf)
            moving |= (arrive[j] < np.inf) | (leave[j] < np.inf)
        if moving:
            _slide(state, leave, arrive, previous)


@compiled
def lagged_block(x, step, count, min_history, flag, out, lo):
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
                    low, high = state[i, j], state[i + 1, j]
                    state[i, j] = low if low < high else high
                    state[i + 1, j] = high if low < high else low
        _score_row(t, x, state, present, w, min_history, flag, out, lo, scratch)
