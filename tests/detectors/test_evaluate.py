from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detectors import (
    Consecutive,
    PanelError,
    Threshold,
    UnknownTransformError,
    apply_transform,
    evaluate,
    latest_periods,
)

PanelFactory = Callable[..., pd.DataFrame]
IMPORTS = "ru_imports_from_cn_musd"
SUBJECTS = {IMPORTS: "Russia's imports from China"}


def _run(panel: pd.DataFrame, detector: Any, transform: str = "yoy_pct", **kw: Any) -> list:
    return evaluate(
        panel, rule="r", transform=transform, detector=detector, severity="warning", **kw
    )


def _periods(findings: list, series: str | None = None) -> list[str]:
    return [str(f.period) for f in findings if series is None or f.series == series]


# --- the real Russia-China series -------------------------------------------------------


def _yoy_by_plain_loop(rows: list[dict[str, str]], column: str) -> dict[str, float]:
    """YoY % per period straight from the CSV text, without pandas or the code under test."""
    level = {row["period"]: float(row[column]) for row in rows}
    yoy = {}
    for period, value in level.items():
        year, month = period.split("-")
        base = level.get(f"{int(year) - 1}-{month}")
        if base:
            yoy[period] = 100.0 * (value / base - 1.0)
    return yoy


def _consecutive_by_plain_loop(yoy: dict[str, float], threshold: float, count: int) -> list:
    flagged, run = [], 0
    for period in sorted(yoy):
        run = run + 1 if yoy[period] < threshold else 0
        if run >= count:
            flagged.append(period)
    return flagged


def test_known_yoy_facts_of_russian_imports(rc_rows: list[dict[str, str]]) -> None:
    yoy = _yoy_by_plain_loop(rc_rows, IMPORTS)
    crisis = pd.period_range("2014-11", "2016-04", freq="M").astype(str)
    assert all(yoy[p] < -5 for p in crisis)
    assert round(yoy["2014-08"], 1) == -5.5
    assert yoy["2014-09"] >= -5
    assert yoy["2014-10"] >= -5
    assert round(yoy["2014-11"], 1) == -7.8
    assert round(yoy["2014-12"], 1) == -20.3
    assert round(yoy["2015-03"], 1) == -21.6


def test_yoy_transform_matches_the_plain_loop(
    rc_panel: pd.DataFrame, rc_rows: list[dict[str, str]]
) -> None:
    transformed = apply_transform("yoy_pct", rc_panel)
    for column in rc_panel.columns:
        expected = _yoy_by_plain_loop(rc_rows, column)
        got = transformed[column].dropna()
        assert list(got.index.astype(str)) == sorted(expected)
        assert got.to_numpy() == pytest.approx([expected[p] for p in sorted(expected)])


def test_consecutive_all_matches_the_plain_loop_for_every_series(
    rc_panel: pd.DataFrame, rc_rows: list[dict[str, str]]
) -> None:
    findings = _run(rc_panel, Consecutive("below", -5, 5), scope="all")
    for column in rc_panel.columns:
        expected = _consecutive_by_plain_loop(_yoy_by_plain_loop(rc_rows, column), -5, 5)
        assert _periods(findings, column) == expected


def test_consecutive_all_flags_the_ruble_crisis(rc_panel: pd.DataFrame) -> None:
    findings = _run(rc_panel, Consecutive("below", -5, 5), scope="all")
    in_window = pd.period_range("2014-01", "2016-12", freq="M")
    window = [f for f in findings if f.series == IMPORTS and f.period in in_window]
    expected = pd.period_range("2015-03", "2016-04", freq="M").astype(str).tolist()
    assert _periods(window) == expected
    assert [f.details["held_for"] for f in window] == list(range(1, 15))
    assert [f.details["run"] for f in window] == list(range(5, 19))


def test_consecutive_latest_on_the_panel_cut_at_2015_03(rc_panel: pd.DataFrame) -> None:
    panel = rc_panel.loc[:"2015-03"]
    findings = _run(panel, Consecutive("below", -5, 5), subjects=SUBJECTS)
    imports = [f for f in findings if f.series == IMPORTS]
    assert len(imports) == 1
    (finding,) = imports
    assert finding.summary == (
        "Russia's imports from China fell 21.6% YoY in March 2015, "
        "the 5th consecutive monthly decline below -5%."
    )
    assert finding.period == pd.Period("2015-03", freq="M")
    assert finding.rule == "r"
    assert finding.severity == "warning"
    assert finding.kind == "condition"
    assert finding.value == pytest.approx(-21.597, abs=1e-3)
    assert finding.reference == -5.0
    assert dict(finding.details) == {
        "transform": "yoy_pct",
        "direction": "below",
        "threshold": -5.0,
        "count": 5,
        "run": 5,
        "held_for": 1,
    }


def test_consecutive_latest_one_period_earlier_is_silent(rc_panel: pd.DataFrame) -> None:
    findings = _run(rc_panel.loc[:"2015-02"], Consecutive("below", -5, 5))
    assert [f for f in findings if f.series == IMPORTS] == []


def test_held_for_grows_while_the_condition_holds(rc_panel: pd.DataFrame) -> None:
    findings = _run(rc_panel.loc[:"2016-04"], Consecutive("below", -5, 5), subjects=SUBJECTS)
    (finding,) = [f for f in findings if f.series == IMPORTS]
    assert finding.details["held_for"] == 14
    assert finding.summary == (
        "Russia's imports from China fell 14.0% YoY in April 2016, "
        "the 18th consecutive monthly decline below -5%."
    )


def test_threshold_on_imports_yoy(rc_panel: pd.DataFrame) -> None:
    findings = _run(rc_panel[[IMPORTS]], Threshold("below", -20), scope="all", subjects=SUBJECTS)
    flagged = _periods(findings)
    assert "2014-12" in flagged
    assert "2014-11" not in flagged
    (december,) = [f for f in findings if str(f.period) == "2014-12"]
    assert december.summary == (
        "Russia's imports from China fell 20.3% YoY in December 2014, below the -20% threshold."
    )
    assert december.details["held_for"] == 1
    assert dict(december.details) == {
        "transform": "yoy_pct",
        "direction": "below",
        "threshold": -20.0,
        "held_for": 1,
    }


# --- scope, selection and ordering on hand-made panels ----------------------------------


def test_latest_uses_each_series_own_newest_period(make_panel: PanelFactory) -> None:
    panel = make_panel(
        "M",
        "2020-01",
        ends_early=[1, 5, 6, 7, None, None],  # newest 2020-04, flagged
        ends_late=[9, 9, 9, 9, 9, 1],  # flagged earlier, not at 2020-06
        empty=[None] * 6,
        ends_late_high=[1, 1, 1, 1, 6, 7],  # newest 2020-06, flagged
    )
    findings = _run(panel, Consecutive("above", 4, 2), transform="level")
    assert [(f.series, str(f.period)) for f in findings] == [
        ("ends_early", "2020-04"),
        ("ends_late_high", "2020-06"),
    ]
    assert [f.details["held_for"] for f in findings] == [2, 1]
    assert latest_periods(panel) == {
        "ends_early": pd.Period("2020-04", "M"),
        "ends_late": pd.Period("2020-06", "M"),
        "ends_late_high": pd.Period("2020-06", "M"),
    }


def test_latest_with_undefined_change_is_silent(make_panel: PanelFactory) -> None:
    panel = make_panel("Y", "2018", zero_base=[5, 0, 3], gap_base=[5, None, 3])
    assert _run(panel, Threshold("above", -1e9), transform="mom_pct") == []


def test_all_scope_is_sorted_by_series_then_period(make_panel: PanelFactory) -> None:
    panel = make_panel("Q", "2020Q1", zeta=[5, 5, 0, 5], alpha=[0, 5, 5, 5])
    findings = _run(panel, Threshold("above", 1), transform="level", scope="all")
    assert [(f.series, str(f.period), f.details["held_for"]) for f in findings] == [
        ("alpha", "2020Q2", 1),
        ("alpha", "2020Q3", 2),
        ("alpha", "2020Q4", 3),
        ("zeta", "2020Q1", 1),
        ("zeta", "2020Q2", 2),
        ("zeta", "2020Q4", 1),
    ]


def test_subject_falls_back_to_the_series_id(make_panel: PanelFactory) -> None:
    panel = make_panel("M", "2020-01", **{"chn-rus/export/8458": [5000.0]})
    (finding,) = _run(panel, Threshold("above", 3000), transform="level", subjects={"x": "X"})
    assert finding.summary == "chn-rus/export/8458 stood at 5,000 in January 2020, above the 3,000 threshold."


def test_empty_panel_gives_no_findings() -> None:
    panel = pd.DataFrame({"a": pd.Series([], dtype=float)}, index=pd.PeriodIndex([], freq="M"))
    assert _run(panel, Threshold("above", 0), scope="all") == []
    assert _run(panel, Threshold("above", 0)) == []
    assert latest_periods(panel) == {}


def test_bad_scope_panel_and_transform_are_rejected(make_panel: PanelFactory) -> None:
    panel = make_panel("M", "2020-01", a=[1.0, 2.0])
    with pytest.raises(ValueError, match="scope must be 'latest' or 'all', got 'newest'"):
        _run(panel, Threshold("above", 0), scope="newest")
    with pytest.raises(UnknownTransformError, match="known transforms"):
        _run(panel, Threshold("above", 0), transform="cube")
    with pytest.raises(PanelError, match="column 'a' has dtype int64"):
        _run(panel.astype(int), Threshold("above", 0))


def test_finding_details_are_read_only(make_panel: PanelFactory) -> None:
    (finding,) = _run(make_panel("M", "2020-01", a=[1.0]), Threshold("above", 0), "level")
    with pytest.raises(TypeError):
        finding.details["held_for"] = 9
    assert all(type(v) in (str, int, float) for v in finding.details.values())


@pytest.mark.parametrize("scope", ["latest", "all"])
@pytest.mark.parametrize("transform", ["level", "mom_pct", "yoy_pct"])
def test_evaluate_does_not_mutate_its_input(
    rc_panel: pd.DataFrame, scope: str, transform: str
) -> None:
    panel = rc_panel.iloc[90:130].copy()
    panel.iloc[5, 1] = np.nan
    panel.iloc[7, 0] = 0.0
    before = panel.copy(deep=True)
    for detector in (Threshold("below", -5), Consecutive("below", -5, 2)):
        _run(panel, detector, transform=transform, scope=scope)
    latest_periods(panel)
    pd.testing.assert_frame_equal(panel, before)


# --- properties -------------------------------------------------------------------------

_cell = st.one_of(st.just(math.nan), st.integers(-3, 3).map(float))


@settings(max_examples=100, deadline=None)
@given(
    columns=st.integers(0, 15).flatmap(
        lambda n_rows: st.lists(
            st.lists(_cell, min_size=n_rows, max_size=n_rows), min_size=1, max_size=4
        )
    ),
    count=st.integers(1, 3),
)
def test_scopes_match_a_plain_loop(
    make_panel: PanelFactory, columns: list[list[float]], count: int
) -> None:
    names = [f"s{i}" for i in range(len(columns))][::-1]
    panel = make_panel("M", "2000-01", **dict(zip(names, columns, strict=True)))
    detector = Consecutive("above", 0, count)
    expected_all, expected_latest = [], []
    for name, column in sorted(zip(names, columns, strict=True)):
        run, held = 0, 0
        for t, v in enumerate(column):
            run = run + 1 if v > 0 else 0  # NaN > 0 is False
            held = held + 1 if run >= count else 0
            if held:
                expected_all.append((name, t, held, run))
        valid = [t for t, v in enumerate(column) if not math.isnan(v)]
        if valid:
            expected_latest += [c for c in expected_all if c[0] == name and c[1] == valid[-1]]

    def cells(findings: list) -> list:
        return [
            (f.series, panel.index.get_loc(f.period), f.details["held_for"], f.details["run"])
            for f in findings
        ]

    assert cells(_run(panel, detector, "level", scope="all")) == expected_all
    assert cells(_run(panel, detector, "level", scope="latest")) == expected_latest
