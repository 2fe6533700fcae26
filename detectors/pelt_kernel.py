"""PELT's recursion for a block of columns, compiled with numba.

Each column is segmented on its own, so only its own admissible candidates are visited (a
whole-array pass visits every candidate alive in any column of its block). The candidates'
state is kept packed in contiguous arrays and each step is two straight loops that the
compiler vectorizes (the candidates' values; their minimum and maximum), and, only when some
candidate is near or past the pruning line, the pruning itself.

Which candidate gave each minimum is not searched at every step: only the steps on the chosen
path need it. The step at which each candidate was pruned is recorded instead, and the path
is walked back at the end, recomputing (with the same arithmetic, so to the same bits) the
values of the candidates alive at each of its steps.

The column's cumulative sums are accumulated here, each with its rounding error carried
along (a two-sum), so every sum is within one rounding of its exact value on any platform.
The rounding safeguards are those of `detectors.pelt`: a pruning decision within `tol` keeps
the candidate and watches it (the column becomes inexact if a watched candidate later comes
within `tol` of the minimum), and a change point on the chosen path with a rival within `tol`
makes the column inexact.
"""

from __future__ import annotations

import numpy as np

from detectors.jit import FINITE_REDUCTION, compiled


@compiled
def _prefix_sums(values, count, out):
    """out[k] = the sum of values[:k] for k <= count, each within one rounding of exact."""
    high = 0.0
    low = 0.0
    out[0] = 0.0
    for r in range(count):
        x = values[r]
        total = high + x
        back = total - high
        low += (high - (total - back)) + (x - back)  # what the addition rounded off
        high = total
        out[r + 1] = high + low


@compiled
def segment_block(Y, T, size, pen, tol, ms, linear, breaks, counts, exact):
    """Segment every column; write `breaks[c, :counts[c]]` (ascending) and `exact[c]`.

    Y: (n, width) the centred columns (rows past a column's size are ignored); T: the centred
    times for the linear cost, (n, 1) when every column shares them, else (n, width) (unused
    for l2). `size[c]` is the number of values of column c.
    """
    n, width = Y.shape
    n1 = n + 1
    shared = T.shape[1] == 1
    total = np.empty(n1)  # F[t] - Q[t]: penalized cost of the best segmentation of [0, t), less sum y**2
    death = np.empty(n1, dtype=np.int64)  # the step at which each candidate was pruned
    path = np.empty(n1, dtype=np.int64)
    col_y = np.empty(n)
    col_t = np.empty(n)
    col_p = np.empty(n1)
    col_t1 = np.zeros(n1)
    col_t2 = np.zeros(n1)
    col_ty = np.zeros(n1)
    # the alive candidates, packed: position, as float, total, and the sums at it
    k_t = np.empty(n1, dtype=np.int64)
    k_f = np.empty(n1)
    k_total = np.empty(n1)
    k_p = np.empty(n1)
    k_t1 = np.zeros(n1)
    k_t2 = np.zeros(n1)
    k_ty = np.zeros(n1)
    k_watched = np.zeros(n1, dtype=np.bool_)
    h = np.empty(n1)
    for c in range(width):
        size_c = size[c]
        pen_c = pen[c]
        tol_c = tol[c]
        counts[c] = 0
        exact[c] = True
        if size_c < ms:
            continue
        for r in range(size_c):
            col_y[r] = Y[r, c]
        _prefix_sums(col_y, size_c, col_p)
        if linear:
            tc = 0 if shared else c
            for r in range(size_c):
                col_t[r] = T[r, tc]
            _prefix_sums(col_t, size_c, col_t1)
            for r in range(size_c):
                col_y[r] = col_t[r] * col_y[r]
            _prefix_sums(col_y, size_c, col_ty)
            for r in range(size_c):
                col_y[r] = col_t[r] * col_t[r]
            _prefix_sums(col_y, size_c, col_t2)
        for r in range(size_c + 1):
            death[r] = n1
        total[0] = 0.0
        count = 0
        watching = False
        inexact = False
        for end in range(ms, size_c + 1):
            new = end - ms  # [0, new) has a segmentation only if new is 0 or at least ms
            if new == 0 or new >= ms:
                k_t[count] = new
                k_f[count] = new
                k_total[count] = total[new]
                k_p[count] = col_p[new]
                k_t1[count] = col_t1[new]
                k_t2[count] = col_t2[new]
                k_ty[count] = col_ty[new]
                k_watched[count] = False
                count += 1
            # h = F[t] + cost(t, end) - Q[end]: the explained sum of squares taken off F[t] - Q[t]
            p_end = col_p[end]
            f_end = float(end)
            if linear:
                t1_end, t2_end, ty_end = col_t1[end], col_t2[end], col_ty[end]
                for i in range(count):
                    h[i] = _linear_value(k_total[i], k_p[i] - p_end, f_end - k_f[i], t1_end - k_t1[i],
                                         t2_end - k_t2[i], ty_end - k_ty[i])
            else:
                for i in range(count):
                    s = k_p[i] - p_end
                    h[i] = k_total[i] - s * s / (f_end - k_f[i])
            best, top = _bounds(h, count)
            if watching:
                near = best + tol_c
                for i in range(count):
                    if k_watched[i] and h[i] <= near:
                        inexact = True  # ruptures may have pruned it, and it is near the minimum
            cut = best + pen_c
            total[end] = cut
            low, high = cut - tol_c, cut + tol_c
            if top >= low:  # some candidate is pruned (past high) or too close to call
                kept = 0
                for i in range(count):
                    value = h[i]
                    borderline = value >= low and value <= high
                    watching = watching or borderline
                    if value > high:
                        death[k_t[i]] = end
                    k_t[kept] = k_t[i]
                    k_f[kept] = k_f[i]
                    k_total[kept] = k_total[i]
                    k_p[kept] = k_p[i]
                    if linear:
                        k_t1[kept] = k_t1[i]
                        k_t2[kept] = k_t2[i]
                        k_ty[kept] = k_ty[i]
                    k_watched[kept] = k_watched[i] or borderline
                    kept += value <= high
                count = kept
        if inexact:
            exact[c] = False
            continue
        cur = size_c
        found = 0
        while cur > 0:
            arg = _first_minimum(cur, ms, death, total, col_p, col_t1, col_t2, col_ty, linear, tol_c)
            if arg < 0:  # a rival within tol: ruptures may have chosen it
                exact[c] = False
                break
            cur = arg
            if cur > 0:
                path[found] = cur
                found += 1
        if exact[c]:
            for k in range(found):
                breaks[c, k] = path[found - 1 - k]
            counts[c] = found


@compiled(fastmath=FINITE_REDUCTION)
def _bounds(h, count):
    """The least and the greatest of h[:count], in one vectorized pass: the values are finite
    (`detectors.pelt` hands columns that could overflow to ruptures)."""
    best = h[0]
    top = h[0]
    for i in range(1, count):
        value = h[i]
        best = value if value < best else best
        top = value if value > top else top
    return best, top


@compiled
def _linear_value(total, s, length, st, tt, ty):
    """F[t] - Q[t] less the segment's explained sum of squares on a line in time: s is minus
    the segment's sum of y, st, tt, ty its sums of t, t**2 and t * y."""
    inv = 1.0 / length
    tbar = st * inv
    var_t = tt - st * tbar
    cross = ty + tbar * s  # sum of (t - tbar) * y
    return total - (s * s * inv + cross * cross / var_t)


@compiled
def _first_minimum(end, ms, death, total, col_p, col_t1, col_t2, col_ty, linear, tol):
    """The candidate the recursion chose at step `end`: the first minimum among those alive
    then, as ruptures takes it; -1 if another is within `tol` of it."""
    best = np.inf
    arg = -1
    for tau in range(0, end - ms + 1):
        if _alive(tau, end, ms, death):
            value = _value_at(tau, end, total, col_p, col_t1, col_t2, col_ty, linear)
            if value < best:
                best = value
                arg = tau
    close = 0
    for tau in range(0, end - ms + 1):
        if _alive(tau, end, ms, death):
            close += _value_at(tau, end, total, col_p, col_t1, col_t2, col_ty, linear) <= best + tol
    return -1 if close > 1 else arg


@compiled
def _alive(tau, end, ms, death):
    """Whether candidate tau took part in step `end`: admissible, and not pruned before it."""
    return (tau == 0 or tau >= ms) and death[tau] >= end


@compiled
def _value_at(tau, end, total, col_p, col_t1, col_t2, col_ty, linear):
    """Candidate tau's value at step `end`, computed as the recursion computed it."""
    if linear:
        return _linear_value(total[tau], col_p[tau] - col_p[end], float(end) - float(tau),
                             col_t1[end] - col_t1[tau], col_t2[end] - col_t2[tau], col_ty[end] - col_ty[tau])
    s = col_p[tau] - col_p[end]
    return total[tau] - s * s / (float(end) - float(tau))
