"""Helpers every detector shares."""

from __future__ import annotations

import numpy as np

from detectors.base import CellValues


def test_cell_values_read_like_the_dense_array_they_stand_for() -> None:
    rows, cols = np.array([3, 0, 3, 7]), np.array([1, 2, 1, 0])
    cells = CellValues((8, 3), rows, cols, np.array([1.5, -2.0, 4.0, 9.0]))  # (3, 1) set twice: the last
    dense = np.full((8, 3), np.nan)
    dense[rows, cols] = [1.5, -2.0, 4.0, 9.0]
    np.testing.assert_array_equal(np.asarray(cells), dense)
    ask_rows, ask_cols = np.array([3, 0, 5, 7, 0]), np.array([1, 2, 2, 0, 0])
    np.testing.assert_array_equal(cells[ask_rows, ask_cols], dense[ask_rows, ask_cols])
    np.testing.assert_array_equal(cells[:, 1], dense[:, 1])
    assert cells.shape == (8, 3) and cells.dtype == np.float64


def test_cell_values_keep_their_integer_type_and_fill() -> None:
    cells = CellValues((4, 2), np.array([1]), np.array([1]), np.array([3], dtype=np.int32), fill=-1)
    assert cells[np.array([1, 0]), np.array([1, 1])].tolist() == [3, -1]
    assert cells[np.array([1]), np.array([1])].dtype == np.int32
    empty = CellValues((4, 2), np.array([], dtype=int), np.array([], dtype=int), np.array([], dtype=float))
    assert np.isnan(empty[np.array([0, 3]), np.array([1, 0])]).all()
