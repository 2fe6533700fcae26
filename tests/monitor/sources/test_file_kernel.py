"""The file source's compiled passes against the numpy steps they replace."""

from __future__ import annotations

import numpy as np
import pytest

from monitor.sources.file import _combinations
from monitor.sources.file_kernel import number_combinations, spread_codes


@pytest.mark.parametrize("seed", range(5))
def test_combinations_are_numbered_in_key_order_with_a_row_of_each(seed: int) -> None:
    rng = np.random.default_rng(seed)
    size = int(rng.integers(1, 500))
    codes = [rng.integers(0, k, size).astype(dtype)
             for k, dtype in ((7, np.int8), (3, np.int8), (300, np.int16))]
    combo, rows = _combinations(codes, size)
    keys = (codes[0].astype(np.int64) * 3 + codes[1]) * (int(codes[2].max()) + 1) + codes[2]
    distinct = np.unique(keys)
    np.testing.assert_array_equal(combo, np.searchsorted(distinct, keys))
    np.testing.assert_array_equal(keys[rows], distinct)  # one row of each, in key order
    assert combo.dtype == np.int32


def test_number_combinations_keeps_the_last_row_of_each() -> None:
    combo = np.empty(6, dtype=np.int32)
    rows = number_combinations(np.array([5, 2, 5, 9, 2, 5]), 10, combo)
    assert combo.tolist() == [1, 0, 1, 2, 0, 1]
    assert rows.tolist() == [4, 5, 3]


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32])
def test_spread_codes_equals_a_gather_per_column(dtype: type) -> None:
    rng = np.random.default_rng(1)
    table = rng.integers(0, 100, (4, 50)).astype(dtype)
    combo = rng.integers(0, 50, 1000).astype(np.int32)
    rows = np.empty((4, 1000), dtype=dtype)
    spread_codes(table, combo, rows)
    for k in range(4):
        np.testing.assert_array_equal(rows[k], table[k][combo])
