"""Materiality guards: exactly which flagged periods survive `min_level` and `min_change`."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from detectors import Threshold, evaluate
from detectors.guards import Materiality, comparison_lag, trailing_mean
from tests.detectors.conftest import build_panel


def _flagged(panel: pd.DataFrame, guards: Materiality | None, transform: str = "mom_pct",
             scope: str = "all") -> dict[str, list[str]]:
    found = evaluate(panel, rule="r", transform=transform,
                     detector=Threshold(direction="below", threshold=-20.0),
                     severity="warning", scope=scope, materiality=guards)  # type: ignore[arg-type]
    out: dict[str, list[str]] = {}
    for f in found:
        out.setdefault(f.series, []).append(str(f.period))
    return out


@pytest.fixture
def panel() -> pd.DataFrame:
    # small halves every other month; big falls 60% in February and 30% in June
    return build_panel("M", "2020-01", small=[100, 50, 100, 50, 100, 50],
                       big=[1000, 400, 1000, 900, 1000, 700])


def test_without_guards_every_fall_is_a_finding(panel: pd.DataFrame) -> None:
    assert _flagged(panel, None) == {"small": ["2020-02", "2020-04", "2020-06"],
                                     "big": ["2020-02", "2020-06"]}


def test_min_level_drops_the_small_flow(panel: pd.DataFrame) -> None:
    # small's trailing mean is 75 at each of its falls; big's 700 and 833.3
    assert _flagged(panel, Materiality(min_level=200)) == {"big": ["2020-02", "2020-06"]}
    assert _flagged(panel, Materiality(min_level=75)) == _flagged(panel, None)  # reaching it is enough
    assert _flagged(panel, Materiality(min_level=834)) == {}


def test_min_change_drops_small_moves(panel: pd.DataFrame) -> None:
    # changes: small 50 each time; big 600 in February, 300 in June
    assert _flagged(panel, Materiality(min_change=400)) == {"big": ["2020-02"]}
    assert _flagged(panel, Materiality(min_change=300)) == {"big": ["2020-02", "2020-06"]}
    assert _flagged(panel, Materiality(min_change=50)) == _flagged(panel, None)


def test_both_guards_must_hold(panel: pd.DataFrame) -> None:
    assert _flagged(panel, Materiality(min_level=200, min_change=400)) == {"big": ["2020-02"]}
    assert _flagged(panel, Materiality(min_level=800, min_change=250)) == {"big": ["2020-06"]}


def test_latest_scope_guards_the_newest_period(panel: pd.DataFrame) -> None:
    assert _flagged(panel, None, scope="latest") == {"small": ["2020-06"], "big": ["2020-06"]}
    assert _flagged(panel, Materiality(min_change=400), scope="latest") == {}
    assert _flagged(panel, Materiality(min_level=200), scope="latest") == {"big": ["2020-06"]}


def test_a_guarded_out_period_breaks_the_run() -> None:
    # -10% four times, then -31%: changes 100, 90, 81, 229
    panel = build_panel("M", "2020-01", d=[1000, 900, 810, 729, 500])
    detector = Threshold(direction="below", threshold=-5.0)
    plain = evaluate(panel, rule="r", transform="mom_pct", detector=detector, severity="w", scope="all")
    assert [(str(f.period), f.details["held_for"]) for f in plain] == [
        ("2020-02", 1), ("2020-03", 2), ("2020-04", 3), ("2020-05", 4)]
    guards = Materiality(min_change=85)
    for scope in ("all", "latest"):
        found = evaluate(panel, rule="r", transform="mom_pct", detector=detector, severity="w",
                         scope=scope, materiality=guards)  # type: ignore[arg-type]
        kept = [(str(f.period), f.details["held_for"]) for f in found]
        wanted = [("2020-02", 1), ("2020-03", 2), ("2020-05", 1)] if scope == "all" else [("2020-05", 1)]
        assert kept == wanted


def test_year_on_year_rules_compare_with_a_year_back() -> None:
    # March 2021 is 40 below March 2020 but only 10 below February 2021
    values = [100.0] * 13 + [60.0]
    values[12] = 70.0
    panel = build_panel("M", "2020-02", s=values)
    assert comparison_lag("yoy_pct", panel.index.freq) == 12
    assert comparison_lag("mom_pct", panel.index.freq) == 1
    yearly = Materiality(min_change=30, lag=12)
    assert _flagged(panel, yearly, transform="yoy_pct", scope="latest") == {"s": ["2021-03"]}
    assert _flagged(panel, Materiality(min_change=30, lag=1), transform="yoy_pct", scope="latest") == {}


def test_trailing_mean_skips_missing_periods() -> None:
    raw = np.array([[1.0], [np.nan], [3.0], [5.0]])
    assert trailing_mean(raw, 2)[:, 0].tolist()[1:] == [1.0, 3.0, 4.0]
    assert np.isnan(trailing_mean(np.array([[np.nan]]), 12)[0, 0])
