"""The file source's pass over every row, compiled: one code per label combination.

A Parquet file of a large watch list holds millions of rows but only as many label
combinations as series; numbering them is one pass over the rows and one over the (small)
table of possible combinations.
"""

from __future__ import annotations

import numpy as np

from detectors.jit import compiled


@compiled
def number_combinations(combined, bound, combo):
    """Write into `combo` a number per row for its combination key (0..bound-1), numbered in
    key order; return one row of each combination (its last), in that order."""
    number = np.full(bound, -1, dtype=np.int64)
    for i in range(len(combined)):
        number[combined[i]] = 0
    count = 0
    for key in range(bound):
        if number[key] == 0:
            number[key] = count
            count += 1
    rows = np.empty(count, dtype=np.int64)
    for i in range(len(combined)):
        code = number[combined[i]]
        combo[i] = code
        rows[code] = i
    return rows


@compiled
def spread_codes(table, combo, rows):
    """rows[k, i] = table[k, combo[i]]: each column's code per combination, for every row."""
    columns = table.shape[0]
    for i in range(len(combo)):
        c = combo[i]
        for k in range(columns):
            rows[k, i] = table[k, c]
