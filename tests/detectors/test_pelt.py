"""The vectorized PELT against ruptures itself: same breakpoints, column by column."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest
import ruptures as rpt
from hypothesis import given, settings
from hypothesis import strategies as st
from ruptures.exceptions import BadSegmentationParameters

from detectors.changepoint import pelt_breakpoints
from detectors.pelt import pelt

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tcpd"
DEMO_CSV = Path(__file__).resolve().parents[2] / "monitor" / "demo" / "russia_china_monthly_2006_2021_russian_fcs.csv"


def _ruptures(x: np.ndarray, pen: float, min_size: int, cost: str = "l2") -> list[int] | None:
    """ruptures' answer for one column, None where it refuses (too short)."""
    signal = np.column_stack([x, np.ones(len(x)), np.arange(len(x), dtype=float)]) if cost == "linear" else x
    try:
        return rpt.Pelt(model=cost, min_size=min_size, jump=1).fit(signal).predict(pen=pen)
    except BadSegmentationParameters:
        return None


def _assert_same(
    x: np.ndarray, pen: np.ndarray, min_size: int, cost: str = "l2", lengths: np.ndarray | None = None
) -> None:
    size = np.full(x.shape[1], x.shape[0]) if lengths is None else lengths
    fast = pelt(x, pen, min_size=min_size, cost=cost, lengths=lengths)  # type: ignore[arg-type]
    ends = fast.ends(size)
    certified = pelt_breakpoints(x, pen, min_size=min_size, cost=cost, lengths=lengths)  # type: ignore[arg-type]
    for c in range(x.shape[1]):
        expected = _ruptures(x[: size[c], c], float(pen[c]), min_size, cost)
        if expected is None:
            assert certified[c] == [int(size[c])]
            continue
        assert certified[c] == expected, (c, cost, min_size, pen[c])
        if fast.exact[c]:
            assert ends[c] == expected, (c, cost, min_size, pen[c])


_value = st.one_of(
    st.integers(-3, 3).map(float),  # exact ties: the fast pass must notice and hand them over
    st.floats(-10, 10, allow_nan=False),
)


@settings(max_examples=60, deadline=None)
@given(
    columns=st.integers(1, 40).flatmap(
        lambda n: st.lists(st.lists(_value, min_size=n, max_size=n), min_size=1, max_size=4)
    ),
    pen=st.floats(0.05, 30),
    min_size=st.integers(1, 6),
    cost=st.sampled_from(["l2", "linear"]),
)
def test_random_columns_match_ruptures(columns: list[list[float]], pen: float, min_size: int, cost: str) -> None:
    x = np.array(columns, dtype=float).T
    _assert_same(x, np.full(x.shape[1], pen), min_size, cost)


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(2, 120),
    min_size=st.integers(1, 8),
    cost=st.sampled_from(["l2", "linear"]),
)
def test_steps_walks_and_short_columns_match_ruptures(seed: int, n: int, min_size: int, cost: str) -> None:
    rng = np.random.default_rng(seed)
    width = 12
    noise = rng.normal(size=(n, width))
    steps = np.cumsum(rng.random((n, width)) < 0.05, axis=0) * rng.normal(0, 4, size=width)
    x = np.where(np.arange(width) % 2 == 0, noise + steps, np.cumsum(noise, axis=0))
    pen = rng.uniform(0.5, 3 * math.log(max(n, 2)) * 2, size=width)
    lengths = rng.integers(0, n + 1, size=width)
    _assert_same(x, pen, min_size, cost, lengths)


def _tcpd() -> list[tuple[str, np.ndarray]]:
    out = []
    for path in sorted(FIXTURES.glob("*.json")):
        data = json.loads(path.read_text())
        raw = np.array([np.nan if v is None else v for v in data["series"][0]["raw"]], dtype=float)
        out.append((data["name"], raw[~np.isnan(raw)]))
    return out


@pytest.mark.parametrize(("name", "x"), _tcpd(), ids=lambda v: v if isinstance(v, str) else "")
@pytest.mark.parametrize("cost", ["l2", "linear"])
def test_real_tcpd_series_match_ruptures(name: str, x: np.ndarray, cost: str) -> None:
    z = (x - x.mean()) / x.std()
    n = len(z)
    pens = np.array([0.5, 2 * math.log(n), 3 * math.log(n), 10 * math.log(n)])
    columns = np.repeat(z[:, None], len(pens), axis=1)
    for min_size in (2, 6):
        _assert_same(columns, pens, min_size, cost)


def test_real_trade_series_match_ruptures_raw_and_standardized() -> None:
    with DEMO_CSV.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    names = [k for k in rows[0] if k != "period"]
    raw = np.array([[float(r[k]) for k in names] for r in rows])
    z = (raw - raw.mean(axis=0)) / raw.std(axis=0)
    n = len(raw)
    for cost in ("l2", "linear"):
        _assert_same(z, np.full(len(names), 3 * math.log(n)), 6, cost)
        _assert_same(z, np.full(len(names), 0.8), 3, cost)
    _assert_same(raw, raw.var(axis=0) * 3 * math.log(n), 6)


def test_exact_ties_are_handed_over_and_still_match() -> None:
    x = np.array([[0, 0, 1, 1, 0, 0, 1, 1, 0, 0]], dtype=float).T
    for pen in (0.1, 0.5, 1.0, 2.0):
        _assert_same(x, np.array([pen]), 2)


def test_lengths_beyond_the_data_are_ignored_and_short_columns_have_no_break() -> None:
    x = np.r_[np.zeros(10), np.full(10, 5.0)][:, None] + np.tile([0.1, -0.1], 10)[:, None]
    x = np.repeat(x, 3, axis=1)
    x[15:, 1] = 999.0  # beyond column 1's length: never read
    result = pelt_breakpoints(x, 1.0, min_size=3, lengths=np.array([20, 15, 4]))
    assert result == [[10, 20], [10, 15], [4]]


def test_input_is_not_modified() -> None:
    x = np.random.default_rng(1).normal(size=(30, 5))
    before = x.copy()
    pelt(x, np.full(5, 2.0), min_size=2, cost="linear")
    pelt_breakpoints(x, 2.0, min_size=2)
    np.testing.assert_array_equal(x, before)
