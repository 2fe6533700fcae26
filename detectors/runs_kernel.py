"""Compiled loop behind `detectors.base.run_lengths` for column-major panels.

A whole-row numpy step reads a column-major panel one element per cache line; a loop down
each column reads it in memory order, once.
"""

from __future__ import annotations

from detectors.jit import compiled


@compiled
def column_runs(flags, runs):
    """runs[r, c] = runs[r - 1, c] + 1 where flags[r, c], else 0, down each column."""
    rows, width = flags.shape
    for c in range(width):
        run = 0
        for r in range(rows):
            run = run + 1 if flags[r, c] else 0
            runs[r, c] = run
