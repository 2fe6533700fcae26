from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from detectors import DETECTORS, Changepoint, DetectorConfigError, build_detector, evaluate
from detectors.base import Cell
from detectors.changepoint import COSTS, METHODS
from detectors.wording import shift_phrase, trend_break_phrase

PanelFactory = Callable[..., pd.DataFrame]
WIGGLE = [1.0, -1.0, -1.0, 1.0]  # sums to 0 and is orthogonal to a line over each block of 4


def _step(before: float, after: float, at: int, n: int, trend: float = 0.0) -> list[float]:
    """A level (and optional trend) that drops at `at`, with a wiggle a line fits exactly."""
    return [
        (before if t < at else after) + trend * t + 0.5 * WIGGLE[t % 4]
        for t in range(n)
    ]  # fmt: skip


def _breaks(detector: Changepoint, panel: pd.DataFrame, column: str = "s") -> list[str]:
    mask = detector.mask(panel)
    return [str(p) for p in panel.index[mask[column].to_numpy()]]


def _run(panel: pd.DataFrame, detector: Any, scope: str = "all", transform: str = "level") -> list:
    return evaluate(
        panel, rule="r", transform=transform, detector=detector, severity="warning",
        subjects={"s": "Exports"}, scope=scope,  # type: ignore[arg-type]
    )  # fmt: skip


# --- exact breaks on hand-made series ----------------------------------------------------


@pytest.mark.parametrize("cost", COSTS)
@pytest.mark.parametrize("method", METHODS)
def test_a_step_is_found_at_its_period_by_every_method_and_cost(
    make_panel: PanelFactory, method: str, cost: str
) -> None:
    panel = make_panel("M", "2020-01", s=_step(100, 70, 24, 48))
    assert _breaks(Changepoint(method=method, cost=cost), panel) == ["2022-01"]  # type: ignore[arg-type]


@pytest.mark.parametrize("cost", ["l2", "linear"])
def test_a_step_on_a_trend(make_panel: PanelFactory, cost: str) -> None:
    panel = make_panel("Q", "2000Q1", s=_step(100, 50, 28, 60, trend=2.0))
    found = _breaks(Changepoint(cost=cost), panel)  # type: ignore[arg-type]
    if cost == "linear":
        assert found == ["2007Q1"]
    else:  # a constant level misreads a trend with a drop: why the default is "linear"
        assert found != ["2007Q1"]


@pytest.mark.parametrize("detector", [Changepoint(), Changepoint(cost="l2"), Changepoint(method="binseg")])
@pytest.mark.parametrize("seed", range(5))
def test_no_break_in_noise(make_panel: PanelFactory, detector: Changepoint, seed: int) -> None:
    noise = np.random.default_rng(seed).normal(1000, 50, size=240)
    assert _breaks(detector, make_panel("M", "2000-01", s=noise)) == []


def test_gaps_are_skipped_and_the_break_lands_on_the_first_observed_period(make_panel: PanelFactory) -> None:
    values: list[float | None] = list(_step(100, 70, 24, 48))
    values[3] = values[24] = values[25] = values[47] = None
    panel = make_panel("M", "2020-01", s=values)
    for detector in (Changepoint(), Changepoint(cost="l2"), Changepoint(method="binseg", cost="l1")):
        assert _breaks(detector, panel) == ["2022-03"]


def test_too_short_constant_and_empty_series_have_no_break(make_panel: PanelFactory) -> None:
    panel = make_panel(
        "M",
        "2020-01",
        s=[1.0] * 10 + [9.0, None],
        flat=[5.0] * 12,
        empty=[None] * 12,
        few=[1, None, 9, None, 9, 9, None, 1, 1, None, None, None],
    )
    for detector in (Changepoint(), Changepoint(cost="l2"), Changepoint(method="dynp", cost="normal")):
        scan = detector.scan(panel)
        assert not scan.mask.any()
        assert scan.latest is not None and not scan.latest.any()
    line = make_panel("M", "2020-01", s=[3.0 * t for t in range(24)])
    assert _breaks(Changepoint(), line) == []  # one trend line fits exactly: nothing to segment


def test_step_sizes_are_reported_per_break(make_panel: PanelFactory) -> None:
    values = [100 + 0.5 * WIGGLE[t % 4] for t in range(24)] + [70.0 + 0.5 * WIGGLE[t % 4] for t in range(24)]
    values += [140.0 + 0.5 * WIGGLE[t % 4] for t in range(24)]
    panel = make_panel("M", "2010-01", s=values)
    findings = _run(panel, Changepoint(cost="l2"))
    assert [(str(f.period), f.details["before"], f.details["after"]) for f in findings] == [
        ("2012-01", 100.0, 70.0),
        ("2014-01", 70.0, 140.0),
    ]
    assert [f.details["shift_pct"] for f in findings] == [-30.0, 100.0]
    assert [f.reference for f in findings] == [100.0, 70.0]


# --- findings: events, scopes, recent -------------------------------------------------------


def test_latest_flags_the_newest_period_while_the_break_is_recent(make_panel: PanelFactory) -> None:
    panel = make_panel("M", "2020-01", s=[*_step(100, 70, 24, 32), None])
    (finding,) = _run(panel, Changepoint(cost="l2"), scope="latest")
    assert str(finding.period) == "2022-08"  # the newest observation, not the trailing gap
    assert finding.kind == "event"
    assert finding.summary == "Exports shifted down 30% in January 2022: from 100 to 70 on average."
    assert finding.value == 70.5
    assert finding.reference == 100.0
    assert dict(finding.details) == {
        "transform": "level",
        "method": "pelt",
        "cost": "l2",
        "penalty": pytest.approx(3 * math.log(32)),
        "min_size": 6,
        "jump": 1,
        "recent": 12,
        "before": 100.0,
        "after": 70.0,
        "shift_pct": -30.0,
        "break_period": "2022-01",
        "held_for": 1,
    }
    assert _run(panel, Changepoint(cost="l2", recent=8), scope="latest") != []
    assert _run(panel, Changepoint(cost="l2", recent=7), scope="latest") == []


def test_an_old_break_is_history_not_news(make_panel: PanelFactory) -> None:
    panel = make_panel("M", "2020-01", s=_step(100, 70, 24, 60))
    assert _run(panel, Changepoint(cost="l2"), scope="latest") == []
    (finding,) = _run(panel, Changepoint(cost="l2"), scope="all")
    assert (str(finding.period), finding.details["break_period"], finding.kind) == (
        "2022-01",
        "2022-01",
        "event",
    )


def test_trend_break_summary(make_panel: PanelFactory) -> None:
    panel = make_panel("M", "2020-01", s=_step(100, 50, 24, 48, trend=2.0))
    (finding,) = _run(panel, Changepoint(), scope="all")
    assert finding.summary == "Exports broke trend in January 2022: 98 against 148 on the old trend (-33.8%)."
    details = finding.details
    assert (details["line_before"], details["line_after"]) == (pytest.approx(148.0), pytest.approx(98.0))
    assert (details["slope_before"], details["slope_after"]) == (pytest.approx(2.0), pytest.approx(2.0))
    assert finding.reference == pytest.approx(148.0)
    assert details["cost"] == "linear" and details["penalty"] == pytest.approx(3 * math.log(48))


def test_summary_for_percent_changes(make_panel: PanelFactory) -> None:
    level = [100.0] * 12
    for rate in [10.0] * 24 + [-20.0] * 24:
        level.append(level[-12] * (1 + rate / 100))
    panel = make_panel("M", "2010-01", s=level)
    (finding,) = _run(panel, Changepoint(cost="l2"), transform="yoy_pct")
    assert finding.summary == ("Exports (YoY) shifted down 30 points in January 2013: "
                               "from +10% to -20% on average.")


def test_describe_words_each_kind_of_value() -> None:
    def cell(transform: str, **details: Any) -> Cell:
        return Cell("Exports", pd.Period("2015-01", "M"), 0.0, 0.0, transform, details)

    base = {"break_period": "2015-01"}
    assert Changepoint(cost="l2").describe(cell("diff", before=-50.0, after=70.5, **base)) == (
        "Exports (MoM) shifted up by 120.5 in January 2015: from -50 to +70.5 on average."
    )
    assert Changepoint().describe(cell("yoy_pct", line_before=12.0, line_after=-13.3, **base)) == (
        "Exports (YoY) broke trend in January 2015: -13.3% against +12% on the old trend (-25.3 points)."
    )


@pytest.mark.parametrize(
    ("args", "text"),
    [
        ((2845.3, 1963.2, "2015-01"), "shifted down 31% in January 2015: from 2,845.3 to 1,963.2 on average"),
        ((0.0, 5.0, "2015"), "shifted up by 5 in 2015: from 0 to 5 on average"),
        ((100.0, 100.01, "2015"), "changed regime in 2015, averaging 100 before and after"),
        ((1e5, 100040.0, "2015"), "shifted up slightly in 2015: from 100,000 to 100,040 on average"),
    ],
)
def test_shift_phrase(args: tuple[float, float, str], text: str) -> None:
    assert shift_phrase(*args) == text


def test_trend_break_phrase() -> None:
    assert trend_break_phrase(4650.2, 3210.5, "2015-01") == (
        "broke trend in January 2015: 3,210.5 against 4,650.2 on the old trend (-31%)"
    )
    assert trend_break_phrase(-20.0, 30.0, "2015Q1", kind="change") == (
        "broke trend in Q1 2015: +30 against -20 on the old trend (+50)"
    )


# --- properties --------------------------------------------------------------------------


@st.composite
def _staircase(draw: st.DrawFn, most: int = 2) -> tuple[np.ndarray, list[int]]:
    """Levels 1 to `most` breaks apart, each at least 25 periods long, steps of 8 to 20 noise
    units, kept only if each step clears the default penalty with room to spare (see below)."""
    count = draw(st.integers(1, most))
    lengths = [draw(st.integers(25, 60)) for _ in range(count + 1)]
    steps = [draw(st.floats(8, 20)) * draw(st.sampled_from([-1, 1])) for _ in range(count)]
    seed = draw(st.integers(0, 2**32 - 1))
    levels = np.cumsum([0.0, *steps])
    values = np.repeat(levels, lengths) + np.random.default_rng(seed).normal(size=sum(lengths))
    # The default charges 3 log(n) variances of the whole series per break; a step between
    # regimes of n1 and n2 values explains n1 n2 / (n1 + n2) step**2. The property is about
    # steps worth at least three times their charge (smaller ones are rightly left out when
    # a big step dominates the series).
    charge = 3 * math.log(len(values)) * values.var()
    gains = [a * b / (a + b) * s * s for a, b, s in zip(lengths[:-1], lengths[1:], steps, strict=True)]
    assume(min(gains) > 3 * charge)
    return 1000.0 + values, np.cumsum(lengths)[:-1].tolist()


@settings(max_examples=40, deadline=None)
@given(case=_staircase())
def test_known_level_shifts_are_found_exactly(make_panel: PanelFactory, case: tuple) -> None:
    values, truth = case
    found = Changepoint(cost="l2").mask(make_panel("M", "2000-01", s=values))["s"].to_numpy()
    assert np.flatnonzero(found).tolist() == truth


@settings(max_examples=25, deadline=None)
@given(case=_staircase(most=1), slope=st.floats(-0.5, 0.5))
def test_a_known_step_on_a_trend_is_found_exactly(
    make_panel: PanelFactory, case: tuple, slope: float
) -> None:
    """Only one step: two steps the same way look like a trend, which the trend model may
    rightly read as one line."""
    values, truth = case
    values = values + slope * np.arange(len(values))
    found = Changepoint().mask(make_panel("M", "2000-01", s=values))["s"].to_numpy()
    assert np.flatnonzero(found).tolist() == truth


@settings(max_examples=25, deadline=None)
@given(
    case=_staircase(),
    holes=st.lists(st.integers(0, 200), max_size=8),
    scale=st.sampled_from([1e-3, 1.0, 1e6]),
)
def test_breaks_ignore_scale_and_survive_gaps(
    make_panel: PanelFactory, case: tuple, holes: list[int], scale: float
) -> None:
    values, truth = case
    values = values * scale
    gaps = sorted({h for h in holes if h < len(values)} - set(truth))
    values[gaps] = np.nan
    found = Changepoint(cost="l2").mask(make_panel("M", "2000-01", s=values))["s"].to_numpy()
    assert np.flatnonzero(found).tolist() == truth


def test_columns_are_independent(make_panel: PanelFactory) -> None:
    one = _step(100, 70, 24, 48)
    both = make_panel("M", "2020-01", a=one, b=_step(5, 9, 30, 48), c=one)
    alone = make_panel("M", "2020-01", a=one)
    mask = Changepoint().mask(both)
    assert mask["a"].tolist() == mask["c"].tolist() == Changepoint().mask(alone)["a"].tolist()
    assert np.flatnonzero(mask["b"].to_numpy()).tolist() == [30]


# --- contract ------------------------------------------------------------------------------


@pytest.mark.parametrize("detector", [Changepoint(), Changepoint(method="window", cost="rbf")])
def test_input_is_not_mutated(make_panel: PanelFactory, detector: Changepoint) -> None:
    values: list[float | None] = list(_step(100, 70, 24, 48))
    values[5] = None
    panel = make_panel("M", "2020-01", s=values, t=_step(1, 2, 20, 48))
    before = panel.copy(deep=True)
    detector.scan(panel)
    detector.mask(panel)
    detector.breaks(panel)
    _run(panel, detector, scope="latest")
    pd.testing.assert_frame_equal(panel, before)


def test_registry_defaults_and_params() -> None:
    assert DETECTORS["changepoint"] is Changepoint
    assert Changepoint.kind == "changepoint" and Changepoint.finding_kind == "event"
    assert build_detector("changepoint", {}) == Changepoint()
    assert build_detector("changepoint", {"method": "binseg", "penalty": 10}) == Changepoint(
        method="binseg", penalty=10.0
    )
    assert Changepoint().params() == {
        "method": "pelt",
        "cost": "linear",
        "penalty": "auto",
        "min_size": 6,
        "jump": 1,
        "recent": 12,
    }
    assert Changepoint(method="window").params()["width"] == 24
    with pytest.raises(dataclasses.FrozenInstanceError):
        Changepoint().recent = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"method": "opt"},
            "changepoint.method must be 'pelt', 'binseg', 'bottomup', 'window' or 'dynp', got 'opt'",
        ),
        ({"cost": "l3"}, "changepoint.cost must be 'l1', 'l2', 'rbf', 'normal' or 'linear', got 'l3'"),
        ({"penalty": 0}, "changepoint.penalty must be > 0, got 0"),
        ({"penalty": "high"}, "changepoint.penalty must be a number, got 'high'"),
        ({"penalty": math.nan}, "changepoint.penalty must be finite, got nan"),
        ({"penalty": True}, "changepoint.penalty must be a number, got True"),
        ({"min_size": 0}, "changepoint.min_size must be >= 1, got 0"),
        ({"min_size": 2.5}, "changepoint.min_size must be an integer, got 2.5"),
        ({"jump": 0}, "changepoint.jump must be >= 1, got 0"),
        ({"recent": -1}, "changepoint.recent must be >= 1, got -1"),
        ({"width": 10}, "changepoint.width applies to method 'window' only"),
        ({"method": "window", "width": 1}, "changepoint.width must be >= 2, got 1"),
        ({"window": 3}, None),
    ],
)
def test_invalid_parameters_are_named(params: dict[str, Any], message: str | None) -> None:
    with pytest.raises(DetectorConfigError) as caught:
        build_detector("changepoint", params)
    if message is None:
        assert str(caught.value).startswith("changepoint: unknown parameter(s) 'window'; known: cost, jump")
    else:
        assert str(caught.value) == message
