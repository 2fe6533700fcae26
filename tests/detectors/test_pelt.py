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
DEMO_CSV = (
    Path(__file__).resolve().parents[2]
    / "monitor"
    / "demo"
    / "russia_china_monthly_2006_2021_russian_fcs.csv"
)
GOLDEN = FIXTURES / "ruptures_pelt.json"


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
def test_random_columns_match_ruptures(
    columns: list[list[float]], pen: float, min_size: int, cost: str
) -> None:
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


def _real_series() -> dict[str, np.ndarray]:
    """The seven TCPD series and the three demo trade series, observed values only."""
    out = {}
    for path in sorted(p for p in FIXTURES.glob("*.json") if p != GOLDEN):
        data = json.loads(path.read_text())
        raw = np.array([np.nan if v is None else v for v in data["series"][0]["raw"]], dtype=float)
        out[data["name"]] = raw[~np.isnan(raw)]
    with DEMO_CSV.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    for name in (k for k in rows[0] if k != "period"):
        out[name] = np.array([float(r[name]) for r in rows])
    return out


def _cases(x: np.ndarray) -> list[tuple[str, int, float]]:
    """(cost, min_size, penalty) on the standardized series: the default and both sides of it."""
    log_n = math.log(len(x))
    return [
        (c, m, p) for c in ("l2", "linear") for m in (2, 6) for p in (0.5, 2 * log_n, 3 * log_n, 10 * log_n)
    ]


def _standardized(x: np.ndarray) -> np.ndarray:
    return (x - x.mean()) / x.std()


@pytest.mark.parametrize(
    ("name", "x"), sorted(_real_series().items()), ids=lambda v: v if isinstance(v, str) else ""
)
def test_real_series_match_ruptures(name: str, x: np.ndarray) -> None:
    """Against ruptures' answers recorded in GOLDEN (ruptures is too slow on these lengths to
    rerun in every test run; `python tests/detectors/test_pelt.py` records them again)."""
    golden = json.loads(GOLDEN.read_text())[name]
    z = _standardized(x)
    cases = _cases(x)
    for cost in ("l2", "linear"):
        for min_size in (2, 6):
            picked = [(k, p) for k, (c, m, p) in enumerate(cases) if c == cost and m == min_size]
            pens = np.array([p for _, p in picked])
            got = pelt_breakpoints(
                np.repeat(z[:, None], len(pens), axis=1), pens, min_size=min_size, cost=cost
            )  # type: ignore[arg-type]
            assert got == [golden[k] for k, _ in picked], (name, cost, min_size)


def test_golden_answers_are_ruptures_answers() -> None:
    """Rerun ruptures live on the shortest real series and part of a trade series."""
    series = _real_series()
    golden = json.loads(GOLDEN.read_text())
    for name in ("gdp_argentina", "ru_imports_from_cn_musd"):
        x = series[name]
        for k, (cost, min_size, pen) in enumerate(_cases(x)):
            if name == "gdp_argentina" or (cost == "l2" and min_size == 6):
                assert golden[name][k] == _ruptures(_standardized(x), pen, min_size, cost)


def test_raw_trade_levels_match_ruptures() -> None:
    """Unstandardized values in the thousands, penalty in the data's squared units."""
    x = _real_series()["ru_exports_to_cn_musd"][:96]
    pen = float(x.var() * 3 * math.log(len(x)))
    assert pelt_breakpoints(x[:, None], pen, min_size=6) == [_ruptures(x, pen, 6)]


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


def test_columns_that_could_overflow_are_handed_to_ruptures() -> None:
    rng = np.random.default_rng(3)
    step = np.r_[np.zeros(15), np.full(15, 4.0)]
    x = np.column_stack([step + rng.normal(size=30), (step + rng.normal(size=30)) * 1e200, step.copy()])
    x[7, 2] = np.inf
    fast = pelt(x, np.full(3, 2.0), min_size=3)
    assert fast.exact.tolist() == [True, False, False]
    assert set(fast.column.tolist()) == {0}  # nothing reported for the columns it cannot certify
    _assert_same(x[:, :1], np.array([2.0]), 3)
    assert fast.ends(np.full(3, 30))[0] == _ruptures(x[:, 0], 2.0, 3)


def test_input_is_not_modified() -> None:
    x = np.random.default_rng(1).normal(size=(30, 5))
    before = x.copy()
    pelt(x, np.full(5, 2.0), min_size=2, cost="linear")
    pelt_breakpoints(x, 2.0, min_size=2)
    np.testing.assert_array_equal(x, before)


if __name__ == "__main__":  # record ruptures' answers for the real series (slow: minutes)
    recorded = {
        name: [_ruptures(_standardized(x), p, m, c) for c, m, p in _cases(x)]
        for name, x in _real_series().items()
    }
    GOLDEN.write_text(json.dumps(recorded) + "\n")
