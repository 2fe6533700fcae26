"""Passes over every entry a source sends, compiled: the check of its order, and the
comparison of each value with the current one.

A source re-sends its whole history each poll (24 million values for a large watch list),
and only the few new or revised ones matter. One pass over the entries answers each question,
instead of several whole-array numpy steps that each allocate as much as the input.
"""

from __future__ import annotations

import numpy as np

from detectors.jit import compiled


@compiled
def compare(current, start, width, size, row_of, refused, codes, ordinals, values, tolerance,
            chosen, old):
    """Write into `chosen` the entries whose value is new (no current value) or differs from
    the current one by more than `tolerance` relative to it, and into `old` the current value
    of each (NaN when none); return how many. Entries of refused series are skipped.

    current: (rows, capacity) matrix of current values, column k holding ordinal start + k,
    the first `width` columns and `size` rows in use; row_of[code]: the matrix row of a series
    (-1: none yet); refused[code]: the series' values are refused."""
    count = 0
    for i in range(len(codes)):
        code = codes[i]
        if refused[code]:
            continue
        row = row_of[code]
        col = ordinals[i] - start
        before = np.nan
        if row >= 0 and row < size and col >= 0 and col < width:
            before = current[row, col]
        if abs(values[i] - before) <= tolerance * abs(before):  # False when before is NaN
            continue
        chosen[count] = i
        old[count] = before
        count += 1
    return count


@compiled
def grouped_and_increasing(codes, ordinals, distinct):
    """Whether each code's entries are consecutive with strictly increasing ordinals; codes
    are in 0..distinct-1, and any negative code (a missing id) answers False."""
    seen = np.zeros(distinct, dtype=np.bool_)
    for i in range(len(codes)):
        code = codes[i]
        if code < 0:
            return False
        if i > 0 and code == codes[i - 1]:
            if ordinals[i] <= ordinals[i - 1]:
                return False
            continue
        if seen[code]:  # this code had a run before
            return False
        seen[code] = True
    return True
