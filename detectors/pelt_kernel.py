"""PELT's recursion for a block of columns, compiled with numba.

Each column is segmented on its own, so only its own admissible candidates are visited (a
whole-array pass visits every candidate alive in any column of its block). The candidates'
state is kept packed in contiguous arrays and each step is a few straight loops that the
compiler vectorizes: the candidates' values, their minimum, a count of near-ties, and, only
when some candidate is near or past the pruning line, the pruning itself.

The arithmetic is the cumulative-sum form of `detectors.pelt`, and so are the rounding
safeguards: a pruning decision within `tol` keeps the candidate and watches it (the column
becomes inexact if a watched candidate later comes within `tol` of the minimum), and a change
point on the chosen path with a rival within `tol` makes the column inexact.
"""

from __future__ import annotations

import numpy as np

from detectors.jit import compiled


@compiled
def segment_block(P, T1, T2, TY, size, pen, tol, ms, linear, breaks, counts, exact):
    """Segment every column; write `breaks[c, :counts[c]]` (ascending) and `exact[c]`.

    P, TY: (n + 1, width) cumulative sums of the centred column and of t * y (TY unused for
    l2); T1, T2: those of t and t**2, one column when every column shares its times. Row k
    holds the sum of the first k values. `size[c]` is the number of values of column c.
    """
    n1, width = P.shape
    shared = T1.shape[1] == 1
    total = np.empty(n1)  # F[t] - Q[t]: penalized cost of the best segmentation of [0, t), less sum y**2
    argmin = np.zeros(n1, dtype=np.int64)
    tie = np.zeros(n1, dtype=np.bool_)
    path = np.empty(n1, dtype=np.int64)
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
        tc = 0 if shared else c
        for r in range(size_c + 1):
            col_p[r] = P[r, c]
            if linear:
                col_t1[r] = T1[r, tc]
                col_t2[r] = T2[r, tc]
                col_ty[r] = TY[r, c]
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
                    inv = 1.0 / (f_end - k_f[i])
                    s = k_p[i] - p_end  # minus the segment's sum of y
                    st = t1_end - k_t1[i]  # the segment's sum of t
                    tbar = st * inv
                    var_t = (t2_end - k_t2[i]) - st * tbar
                    cross = (ty_end - k_ty[i]) + tbar * s  # sum of (t - tbar) * y
                    h[i] = k_total[i] - (s * s * inv + cross * cross / var_t)
            else:
                for i in range(count):
                    s = k_p[i] - p_end
                    h[i] = k_total[i] - s * s / (f_end - k_f[i])
            best = h[0]
            top = h[0]
            for i in range(1, count):
                best = min(best, h[i])
                top = max(top, h[i])
            arg = 0
            while h[arg] != best:  # the first minimum, as ruptures takes it
                arg += 1
            near = best + tol_c
            close = 0
            for i in range(count):
                close += h[i] <= near
            if watching:
                for i in range(count):
                    if k_watched[i] and h[i] <= near:
                        inexact = True  # ruptures may have pruned it, and it is near the minimum
            cut = best + pen_c
            total[end] = cut
            argmin[end] = k_t[arg]
            tie[end] = close > 1
            low, high = cut - tol_c, cut + tol_c
            if top >= low:  # some candidate is pruned (past high) or too close to call
                kept = 0
                for i in range(count):
                    value = h[i]
                    borderline = value >= low and value <= high
                    watching = watching or borderline
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
            if tie[cur]:
                exact[c] = False
                break
            cur = argmin[cur]
            if cur > 0:
                path[found] = cur
                found += 1
        if exact[c]:
            for k in range(found):
                breaks[c, k] = path[found - 1 - k]
            counts[c] = found
