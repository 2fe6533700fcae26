"""Compiled loops behind `detectors.transforms`: a percent change in one pass over the panel.

Whole-array numpy builds the lagged copy, the ratio, the change and two masks, each a full
temporary of the panel; a loop reads every value once and writes its change once. Loops
run down columns: a DataFrame's values are column-major.
"""

from __future__ import annotations

import math

import numpy as np

from detectors.jit import compiled


@compiled
def pct_change(values, lag, out):
    """out = 100 (x_t / x_{t-lag} - 1), NaN where the base is missing, zero or before the first
    row, and wherever the change is not finite (the same operations as the numpy form)."""
    rows, width = values.shape
    for c in range(width):
        for r in range(min(lag, rows)):
            out[r, c] = np.nan
        for r in range(lag, rows):
            base = values[r - lag, c]
            change = 100.0 * (values[r, c] / base - 1.0)
            out[r, c] = change if base != 0.0 and math.isfinite(change) else np.nan
