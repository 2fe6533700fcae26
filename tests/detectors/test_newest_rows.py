"""Scope "latest" scores only the newest rows for causal detectors with a bounded lookback;
the findings must be those of scoring the whole panel."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detectors import RobustZ, evaluate
from detectors.evaluate import LATEST_TAIL


def panel(seed: int, rows: int, cols: int, stop_early: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    values = rng.normal(100.0, 10.0, (rows, cols))
    values[rng.random((rows, cols)) < 0.03] = np.nan
    values[rng.random((rows, cols)) < 0.02] *= 3  # outliers to flag
    if stop_early:
        values[-stop_early:, 0] = np.nan  # one series ends earlier than the others
    index = pd.period_range("2001-01", periods=rows, freq="M")
    return pd.DataFrame(values, index=index, columns=[f"s{j}" for j in range(cols)])


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), stop_early=st.integers(0, 30),
       detector=st.sampled_from([RobustZ(window=12, threshold=2.0), RobustZ(seasonal=True, years=3,
                                                                          threshold=2.0)]))
def test_newest_rows_give_the_findings_of_the_whole_panel(seed: int, stop_early: int,
                                                          detector: RobustZ) -> None:
    data = panel(seed, 160, 40, stop_early)
    fast = evaluate(data, rule="r", transform="level", detector=detector, severity="info")
    whole = evaluate(data, rule="r", transform="level", detector=detector, severity="info", scope="all")
    newest = {s: data[s].last_valid_index() for s in data.columns}
    expected = [f for f in whole if f.period == newest[f.series]]
    assert [(f.series, f.period, f.value, f.reference) for f in fast] == [
        (f.series, f.period, f.value, f.reference) for f in expected]
    for got, want in zip(fast, expected, strict=True):
        assert got.details["held_for"] == min(want.details["held_for"], LATEST_TAIL)
        assert got.summary == want.summary


def test_held_for_counts_up_to_the_tail() -> None:
    index = pd.period_range("2001-01", periods=120, freq="M")
    values = np.full((120, 1), 100.0) + np.random.default_rng(1).normal(0, 1, (120, 1))
    values[-20:, 0] = 500.0  # twenty months far above a 36-month median... that then adapts
    data = pd.DataFrame(values, index=index, columns=["a"])
    [finding] = evaluate(data, rule="r", transform="level", detector=RobustZ(window=60), severity="info")
    assert finding.details["held_for"] == LATEST_TAIL
    [whole] = [f for f in evaluate(data, rule="r", transform="level", detector=RobustZ(window=60),
                                   severity="info", scope="all") if f.period == index[-1]]
    assert whole.details["held_for"] == 20


@pytest.mark.parametrize("rows", [30, 60])
def test_short_panels_are_scored_whole(rows: int) -> None:
    data = panel(3, rows, 5, 0)
    fast = evaluate(data, rule="r", transform="level", detector=RobustZ(window=12, threshold=2.0),
                    severity="info")
    whole = evaluate(data, rule="r", transform="level", detector=RobustZ(window=12, threshold=2.0),
                     severity="info", scope="all")
    assert [(f.series, f.period) for f in fast] == [
        (f.series, f.period) for f in whole if f.period == data[f.series].last_valid_index()]
