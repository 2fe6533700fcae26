"""Compiled loop behind `detectors.robust`: median and MAD of each cell's history.

Per column, the history values sit in a small sorted buffer: for a trailing window it slides
(drop the value leaving, insert the value arriving, both by binary search), for the same
period of previous years it is gathered and insertion-sorted per cell. The median is read
off the middle; the MAD is the narrowest block of half the values around it, a branch-free scan
of about half the window.
"""

from __future__ import annotations

import math

import numpy as np

from detectors.jit import compiled

CONSISTENCY = 0.6745  # MAD / 0.6745 estimates the standard deviation of normal data
MEAN_AD_FACTOR = 1.253314  # sqrt(pi / 2), the same role for the mean absolute deviation


@compiled
def _insert(buffer, size, value):
    """Insert `value` into the sorted `buffer[:size]`, from the end (an insertion sort step:
    the buffers are short, and a trailing window only inserts while it fills)."""
    i = size
    while i > 0 and buffer[i - 1] > value:
        buffer[i] = buffer[i - 1]
        i -= 1
    buffer[i] = value


@compiled
def _remove(buffer, size, value):
    """Remove one occurrence of `value` from the sorted `buffer[:size]` (it is there)."""
    lo, hi = 0, size
    while lo < hi:
        mid = (lo + hi) // 2
        if buffer[mid] < value:
            lo = mid + 1
        else:
            hi = mid
    for i in range(lo, size - 1):
        buffer[i] = buffer[i + 1]


@compiled
def _replace(buffer, size, leaving, arriving):
    """Replace one occurrence of `leaving` in the sorted `buffer[:size]` by `arriving`,
    shifting only the values between the two positions."""
    lo, hi = 0, size
    while lo < hi:
        mid = (lo + hi) // 2
        if buffer[mid] < leaving:
            lo = mid + 1
        else:
            hi = mid
    i = lo
    while i > 0 and buffer[i - 1] > arriving:
        buffer[i] = buffer[i - 1]
        i -= 1
    while i < size - 1 and buffer[i + 1] < arriving:
        buffer[i] = buffer[i + 1]
        i += 1
    buffer[i] = arriving


@compiled
def _narrowest(s, n, k, median):
    """min over a of max(median - s[a], s[a + k - 1] - median): four independent running
    minima, so the loop is not one long chain of dependent comparisons."""
    m0 = m1 = m2 = m3 = np.inf
    last = n - k + 1
    a = 0
    while a + 4 <= last:
        d0 = max(median - s[a], s[a + k - 1] - median)
        d1 = max(median - s[a + 1], s[a + k] - median)
        d2 = max(median - s[a + 2], s[a + k + 1] - median)
        d3 = max(median - s[a + 3], s[a + k + 2] - median)
        m0 = d0 if d0 < m0 else m0
        m1 = d1 if d1 < m1 else m1
        m2 = d2 if d2 < m2 else m2
        m3 = d3 if d3 < m3 else m3
        a += 4
    while a < last:
        d0 = max(median - s[a], s[a + k - 1] - median)
        m0 = d0 if d0 < m0 else m0
        a += 1
    m0 = m1 if m1 < m0 else m0
    m2 = m3 if m3 < m2 else m2
    return m2 if m2 < m0 else m0


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
def robust_columns(x, step, count, min_history, median, z, history):
    """Fill median, z and history count for every cell of `x` (rows are periods).

    The history of row t is rows t - step, ..., t - count * step; only finite values count.
    A cell is scored when it is finite and has at least `min_history` history values.
    """
    n, width = x.shape
    buffer = np.empty(count + 1)
    for c in range(width):
        size = 0
        for t in range(n):
            if step != 1:
                size = 0
                for i in range(1, count + 1):
                    r = t - i * step
                    if r < 0:
                        break
                    if math.isfinite(x[r, c]):
                        _insert(buffer, size, x[r, c])
                        size += 1
            history[t, c] = size
            value = x[t, c]
            m, scale = np.nan, np.nan
            if size >= min_history and size > 0 and math.isfinite(value):
                m, scale = _median_scale(buffer, size)
            score = (value - m) / scale
            median[t, c] = m
            z[t, c] = np.nan if math.isinf(score) else score
            if step == 1:  # slide: the value `count` rows back leaves, this one arrives
                leaving = x[t - count, c] if t >= count else np.nan
                if math.isfinite(leaving) and math.isfinite(value):
                    _replace(buffer, size, leaving, value)
                elif math.isfinite(leaving):
                    _remove(buffer, size, leaving)
                    size -= 1
                elif math.isfinite(value):
                    _insert(buffer, size, value)
                    size += 1
