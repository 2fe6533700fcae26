"""Compiled loops behind `detectors.segments`: per-column moments and per-regime sums.

Whole-array numpy needs a masked copy of the panel for every step of these; a loop reads the
panel once per statistic. Loops run down columns: panels are column-major (a DataFrame's
values are), and the callers make them so. Times come as (n, 1) when every column shares
them, else (n, S).
"""

from __future__ import annotations

import numpy as np

from detectors.jit import compiled


@compiled
def moments(values, lengths, times, trend):
    """Per column over its first `lengths[c]` rows: mean, sum of squared deviations from it,
    and what one straight line in time leaves of that sum (the same sum without `trend`)."""
    width = values.shape[1]
    shared = times.shape[1] == 1
    mean = np.zeros(width)
    ss = np.zeros(width)
    resid = np.zeros(width)
    for c in range(width):
        n = lengths[c]
        tc = 0 if shared else c
        total = 0.0
        for r in range(n):
            total += values[r, c]
        m = total / max(n, 1)
        dev2 = 0.0
        for r in range(n):
            dev = values[r, c] - m
            dev2 += dev * dev
        mean[c] = m
        ss[c] = dev2
        resid[c] = dev2
        if trend:
            t_total = 0.0
            for r in range(n):
                t_total += times[r, tc]
            t_mean = t_total / max(n, 1)
            stt = 0.0
            sty = 0.0
            for r in range(n):
                t_dev = times[r, tc] - t_mean
                stt += t_dev * t_dev
                sty += t_dev * (values[r, c] - m)
            resid[c] = dev2 - sty * sty / stt if stt > 0 else 0.0
    return mean, ss, resid


@compiled
def scaled(values, lengths, mean, scale, ok):
    """(value - mean) / scale over each column's first `lengths[c]` rows where `ok[c]`, else 0;
    column-major like the panel it comes from."""
    n, width = values.shape
    out = np.empty((width, n)).T
    for c in range(width):
        filled = lengths[c] if ok[c] else 0
        for r in range(filled):
            out[r, c] = (values[r, c] - mean[c]) / scale[c]
        for r in range(filled, n):
            out[r, c] = 0.0
    return out


@compiled
def regime_stats(values, lengths, times, column, position, lines):
    """For each break (sorted by column, position): the mean of the regime before and after it,
    and with `lines` each regime's least-squares line at the break's time and its slope."""
    count = len(column)
    shared = times.shape[1] == 1
    out = np.full((6, count), np.nan)
    for k in range(count):
        c = column[k]
        tc = 0 if shared else c
        start = position[k - 1] if k > 0 and column[k - 1] == c else 0
        stop = position[k + 1] if k + 1 < count and column[k + 1] == c else lengths[c]
        at = times[position[k], tc]
        for side in range(2):
            lo = start if side == 0 else position[k]
            hi = position[k] if side == 0 else stop
            sy = 0.0
            st = 0.0
            stt = 0.0
            sty = 0.0
            for r in range(lo, hi):
                y = values[r, c]
                sy += y
                if lines:
                    t = times[r, tc]
                    st += t
                    stt += t * t
                    sty += t * y
            m = float(hi - lo)
            mean = sy / m
            out[side, k] = mean
            if lines:
                t_mean = st / m
                var_t = stt - st * t_mean
                slope = (sty - t_mean * sy) / var_t if var_t > 0 else 0.0
                out[2 + side, k] = mean + slope * (at - t_mean)
                out[4 + side, k] = slope
    return out
