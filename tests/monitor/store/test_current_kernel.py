"""The compiled comparison at ingest against the whole-array numpy formula it replaced."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from monitor.store.current import Cells, Matrix
from monitor.store.frames import Incoming
from monitor.store.ingest import REVISION_TOLERANCE, changed_entries


def lookup(matrix: Matrix, rows: np.ndarray, ordinals: np.ndarray) -> np.ndarray:
    """Current values at (row, ordinal); NaN where there is none (or outside the matrix)."""
    cols = ordinals - matrix.start
    inside = (rows < matrix.size) & (cols >= 0) & (cols < matrix.width)
    out = np.full(len(rows), np.nan)
    out[inside] = matrix.values[rows[inside], cols[inside]]
    return out


def numpy_changed(matrix: Matrix, row_of: np.ndarray, refused: np.ndarray,
                  incoming: Incoming) -> tuple[np.ndarray, np.ndarray]:
    rows = row_of[incoming.codes]
    old = np.full(len(rows), np.nan)
    has = rows >= 0
    old[has] = lookup(matrix, rows[has], incoming.ordinals[has])
    with np.errstate(invalid="ignore"):
        same = np.abs(incoming.values - old) <= REVISION_TOLERANCE * np.abs(old)
    chosen = np.flatnonzero(~same & ~refused[incoming.codes])
    return chosen, old[chosen]


@pytest.mark.parametrize("seed", range(5))
def test_changed_entries_equal_the_numpy_formula(seed: int) -> None:
    rng = np.random.default_rng(seed)
    stored, periods = 40, 30
    matrix = Matrix("M")
    matrix.add_series([f"s{k}" for k in range(stored)])
    start = pd.Period("2020-01", freq="M").ordinal
    values = rng.normal(100, 10, (stored, periods))
    values[rng.random(values.shape) < 0.1] = np.nan  # gaps
    rows, cols = np.nonzero(~np.isnan(values))
    matrix.apply(Cells(rows, cols + start, values[rows, cols], 0))

    # Incoming: the stored series and 10 new ones, 6 months more, some values revised,
    # some re-sent within the tolerance, some infinite.
    ids = [f"s{k}" for k in range(stored + 10)]
    width = periods + 6
    new = np.full((len(ids), width), np.nan)
    new[:stored, :periods] = values
    new[:, periods:] = rng.normal(100, 10, (len(ids), 6))
    new[stored:, :periods] = rng.normal(100, 10, (10, periods))
    revise = rng.random(new.shape) < 0.05
    new[revise] += rng.normal(0, 5, revise.sum())
    tiny = rng.random(new.shape) < 0.05
    new[tiny] *= 1 + 1e-14
    new[rng.random(new.shape) < 0.01] = np.inf
    new[rng.random(new.shape) < 0.05] = np.nan  # not sent
    codes, cols = np.nonzero(~np.isnan(new))
    incoming = Incoming(ids, codes.astype(np.int64), (cols + start - 3).astype(np.int64),  # 3 older months
                        new[codes, cols], pd.DataFrame(index=ids))
    row_of = np.array([matrix.row.get(sid, -1) for sid in ids], dtype=np.int64)
    refused = rng.random(len(ids)) < 0.1

    chosen, old = changed_entries(matrix, row_of, refused, incoming)
    want_chosen, want_old = numpy_changed(matrix, row_of, refused, incoming)
    np.testing.assert_array_equal(chosen, want_chosen)
    np.testing.assert_array_equal(old, want_old)
    assert 0 < len(chosen) < len(codes)


def test_no_matrix_yet_means_everything_is_new_except_refused_series() -> None:
    incoming = Incoming(["a", "b"], np.array([0, 0, 1]), np.array([600, 601, 600]), np.array([1.0, 2.0, 3.0]),
                        pd.DataFrame(index=["a", "b"]))
    chosen, old = changed_entries(None, np.array([-1, -1]), np.array([False, True]), incoming)
    assert chosen.tolist() == [0, 1]
    assert np.isnan(old).all() and len(old) == 2


def numpy_grouped_and_increasing(codes: np.ndarray, ordinals: np.ndarray) -> bool:
    if len(codes) < 2:
        return True
    change = codes[1:] != codes[:-1]
    if not bool(np.all(change | (ordinals[1:] > ordinals[:-1]))):
        return False
    runs = int(np.count_nonzero(change)) + 1
    return runs == int(np.count_nonzero(np.bincount(codes[codes >= 0])))


@pytest.mark.parametrize("seed", range(30))
def test_grouped_and_increasing_equals_the_numpy_check(seed: int) -> None:
    from monitor.store.frames import grouped_and_increasing

    rng = np.random.default_rng(seed)
    series, months = int(rng.integers(1, 6)), int(rng.integers(1, 6))
    codes = np.repeat(np.arange(series), months)
    ordinals = np.tile(np.arange(months) + 600, series)
    kind = seed % 5
    if kind == 1:  # one series appears again later
        codes = np.r_[codes, 0]
        ordinals = np.r_[ordinals, 700]
    elif kind == 2:  # a period repeats within a series
        ordinals[-1] = ordinals[-2] if months > 1 else ordinals[-1]
    elif kind == 3:  # a missing id
        codes[rng.integers(len(codes))] = -1
    elif kind == 4:  # shuffled
        order = rng.permutation(len(codes))
        codes, ordinals = codes[order], ordinals[order]
    for dtype in (np.int8, np.int64):
        typed = codes.astype(dtype)
        assert grouped_and_increasing(typed, ordinals) == numpy_grouped_and_increasing(typed, ordinals)
