from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detectors import DetectorConfigError, RobustZ, apply_transform, build_detector, evaluate

PanelFactory = Callable[..., pd.DataFrame]
IMPORTS = "ru_imports_from_cn_musd"


def _flagged(detector: RobustZ, values: pd.DataFrame, column: str) -> list[str]:
    mask = detector.mask(values)
    return [str(p) for p in mask.index[mask[column].to_numpy()]]


# --- hand-made series -----------------------------------------------------------------------

# 2020-01 .. 2021-01: a spike in 2020-06, a gap in 2020-08, a collapse in 2021-01.
SPIKY = [10, 11, 9, 10, 12, 30, 10, None, 11, 9, 10, 11, -20]


def test_trailing_window_flags_exact_periods(make_panel: PanelFactory) -> None:
    values = make_panel("M", "2020-01", a=SPIKY)
    detector = RobustZ(window=5, min_history=4)
    assert _flagged(detector, values, "a") == ["2020-06", "2021-01"]
    assert _flagged(RobustZ(window=5, min_history=4, direction="above"), values, "a") == ["2020-06"]
    assert _flagged(RobustZ(window=5, min_history=4, direction="below"), values, "a") == ["2021-01"]
    scan = detector.scan(values)
    assert scan.evidence["history"][:, 0].tolist() == [0, 1, 2, 3, 4, 5, 5, 5, 4, 4, 4, 4, 4]
    # 2020-06: history 10 11 9 10 12 -> median 10, MAD 1; 2021-01: 11 9 10 11 -> 10.5, 0.5.
    assert scan.reference[[5, 12], 0].tolist() == [10.0, 10.5]
    assert scan.evidence["z"][[5, 12], 0] == pytest.approx([0.6745 * 20, 0.6745 * -30.5 / 0.5])
    assert np.isnan(scan.evidence["z"][[0, 1, 2, 3, 7], 0]).all()


def test_full_window_is_needed_by_default(make_panel: PanelFactory) -> None:
    values = make_panel("M", "2020-01", a=SPIKY)
    detector = RobustZ(window=5)
    assert detector.history_needed == 5
    # The gap in 2020-08 leaves every later month with four of five values: none is scored.
    assert _flagged(detector, values, "a") == ["2020-06"]
    assert np.isnan(detector.scan(values).evidence["z"][8:, 0]).all()


def test_zero_mad_falls_back_to_the_mean_absolute_deviation(make_panel: PanelFactory) -> None:
    # History 10 10 10 12 14: median 10, MAD 0, mean absolute deviation 1.2.
    values = make_panel("M", "2020-01", a=[10, 10, 10, 12, 14, 16], b=[10, 10, 10, 12, 14, 15])
    scan = RobustZ(window=5).scan(values)
    scale = 1.253314 * 1.2
    assert scan.evidence["z"][5].tolist() == pytest.approx([6 / scale, 5 / scale])
    assert scan.mask[5].tolist() == [True, False]


def test_constant_history_cannot_score(make_panel: PanelFactory) -> None:
    values = make_panel("M", "2020-01", a=[7] * 5 + [8], b=[0] * 6)
    scan = RobustZ(window=5).scan(values)
    assert not scan.mask.any()
    assert np.isnan(scan.evidence["z"]).all()
    assert not np.isinf(scan.reference).any()


def test_seasonal_quarterly_compares_the_same_quarter(make_panel: PanelFactory) -> None:
    values = make_panel(
        "Q",
        "2018Q1",
        a=[100, 200, 300, 400, 110, 210, 290, 410, 90, 190, 310, 390, 100, 400, 300, 400],
    )
    detector = RobustZ(seasonal=True, years=3)
    assert _flagged(detector, values, "a") == ["2021Q2"]
    scan = detector.scan(values)
    assert scan.evidence["history"][:, 0].tolist() == [0] * 4 + [1] * 4 + [2] * 4 + [3] * 4
    assert scan.evidence["z"][12:, 0].tolist() == pytest.approx([0, 0.6745 * 200 / 10, 0, 0])
    # Against the previous quarters instead, the spike hides in the seasonal swing, and the
    # ordinary third quarter after it looks odd (history 390 100 400: median 390, MAD 10).
    assert _flagged(RobustZ(window=3), values, "a") == ["2021Q3"]
    assert _flagged(RobustZ(window=4), values, "a") == []


def test_seasonal_monthly_with_a_gap(make_panel: PanelFactory) -> None:
    base = [100.0 + 10 * m for m in range(12)]
    years: list[list[float | None]] = [[v + d for v in base] for d in (0, 1, -1, 2, 0)]
    years[1][2] = None  # 2021-03 missing
    years[4][2] = 500  # 2024-03 jumps, with three earlier Marches
    years[4][5] = 500  # 2024-06 jumps, with four earlier Junes
    values = make_panel("M", "2020-01", a=[v for year in years for v in year])
    assert _flagged(RobustZ(seasonal=True, years=4), values, "a") == ["2024-06"]
    assert _flagged(RobustZ(seasonal=True, years=4, min_history=3), values, "a") == ["2024-03", "2024-06"]


def test_annual_series(make_panel: PanelFactory) -> None:
    values = make_panel("Y", "2010", a=[1, 2, 3, 2, 10])
    assert _flagged(RobustZ(window=3), values, "a") == ["2014"]
    # Annual data has no season: seasonal with `years` is the same trailing window.
    assert _flagged(RobustZ(seasonal=True, years=3), values, "a") == ["2014"]


def test_short_history_messages(make_panel: PanelFactory) -> None:
    monthly = make_panel("M", "2020-01", a=[1.0] * 20 + [None] * 20, b=[1.0] * 40, c=[None] * 40)
    (short,) = RobustZ().short_history(monthly)
    assert str(short) == "a: needs 36 months of history, has 19"
    assert (short.series, str(short.period), short.needed, short.available) == ("a", "2021-08", 36, 19)
    quarterly = make_panel("Q", "2020Q1", x=[1.0] * 10)
    (short,) = RobustZ(seasonal=True).short_history(quarterly)
    assert str(short) == "x: needs 5 years of same-quarter history, has 2"
    annual = make_panel("Y", "2020", x=[1.0, 2.0])
    (short,) = RobustZ(window=3).short_history(annual)
    assert str(short) == "x: needs 3 years of history, has 1"
    assert RobustZ(window=3, min_history=3).short_history(make_panel("Y", "2020", x=[1.0] * 4)) == []


# --- sentences and findings -----------------------------------------------------------------


def _summary(freq: str, start: str, values: list, detector: RobustZ, transform: str) -> str:
    index = pd.period_range(start, periods=len(values), freq=freq)
    panel = pd.DataFrame({"s": [math.nan if v is None else float(v) for v in values]}, index)
    (finding,) = evaluate(
        panel, rule="r", transform=transform, detector=detector, severity="warning", subjects={"s": "Exports"}
    )
    return finding.summary


@pytest.mark.parametrize(
    ("freq", "start", "values", "detector", "transform", "sentence"),
    [
        (
            "M",
            "2020-01",
            SPIKY,
            RobustZ(window=5, min_history=4),
            "level",
            "Exports stood at -20 in January 2021, unusually low against the previous 5 months "
            "(median 10.5, robust z -41.1).",
        ),
        (
            "M",
            "2019-01",
            [100] * 12 + [110, 90, 105, 95, 100, 140],
            RobustZ(window=5),
            "yoy_pct",
            "Exports rose 40.0% YoY in June 2020, unusually high against the previous 5 months "
            "(median 0%, robust z +5.4).",
        ),
        (
            "Q",
            "2018Q1",
            [100, 200, 300, 400, 110, 210, 290, 410, 90, 190, 310, 390, 100, 400],
            RobustZ(seasonal=True, years=3),
            "level",
            "Exports stood at 400 in Q2 2021, unusually high against the same quarter of the previous "
            "3 years (median 200, robust z +13.5).",
        ),
        (
            "Y",
            "2010",
            [1, 2, 3, 2, 10],
            RobustZ(seasonal=True, years=3),
            "level",
            "Exports stood at 10 in 2014, unusually high against the previous 3 years "
            "(median 2, robust z +19.1).",
        ),
    ],
)
def test_summary_sentences(
    freq: str, start: str, values: list, detector: RobustZ, transform: str, sentence: str
) -> None:
    assert _summary(freq, start, values, detector, transform) == sentence


def test_finding_details(make_panel: PanelFactory) -> None:
    values = make_panel("M", "2020-01", a=SPIKY)
    (finding,) = evaluate(
        values, rule="r", transform="level", detector=RobustZ(window=5, min_history=4), severity="info"
    )
    assert finding.reference == 10.5
    assert dict(finding.details) == {
        "transform": "level",
        "threshold": 3.5,
        "direction": "both",
        "window": 5,
        "min_history": 4,
        "z": pytest.approx(0.6745 * -30.5 / 0.5),
        "history": 4,
        "held_for": 1,
    }
    assert all(type(v) in (str, int, float) for v in finding.details.values())


# --- the real Russia-China series -----------------------------------------------------------


def _yoy_by_plain_loop(rows: list[dict[str, str]], column: str) -> dict[str, float]:
    level = {row["period"]: float(row[column]) for row in rows}
    yoy = {}
    for period, value in level.items():
        year, month = period.split("-")
        base = level.get(f"{int(year) - 1}-{month}")
        if base:
            yoy[period] = 100.0 * (value / base - 1.0)
    return yoy


def _robust_z_by_plain_loop(series: dict[str, float], window: int) -> dict[str, float]:
    periods = sorted(series)
    scores = {}
    for t, period in enumerate(periods):
        history = [series[p] for p in periods[max(0, t - window) : t]]
        if t < window:
            continue  # the series has no gaps: the first `window` periods lack history
        median = statistics.median(history)
        mad = statistics.median(abs(v - median) for v in history)
        scores[period] = 0.6745 * (series[period] - median) / mad
    return scores


def test_robust_z_on_imports_yoy_flags_the_ruble_crisis_months(
    rc_panel: pd.DataFrame, rc_rows: list[dict[str, str]]
) -> None:
    scores = _robust_z_by_plain_loop(_yoy_by_plain_loop(rc_rows, IMPORTS), window=36)
    expected = [p for p, z in sorted(scores.items()) if "2014-01" <= p <= "2016-12" and abs(z) > 3.5]
    assert expected == ["2015-01", "2015-04", "2015-05", "2015-07"]
    findings = evaluate(
        rc_panel, rule="r", transform="yoy_pct", detector=RobustZ(), severity="warning", scope="all"
    )
    got = [f for f in findings if f.series == IMPORTS and "2014-01" <= str(f.period) <= "2016-12"]
    assert [str(f.period) for f in got] == expected
    assert [f.details["z"] for f in got] == pytest.approx([scores[p] for p in expected])


def test_robust_z_latest_on_the_real_panel_cut_at_2015_01(rc_panel: pd.DataFrame) -> None:
    findings = evaluate(
        rc_panel.loc[:"2015-01", [IMPORTS]],
        rule="r",
        transform="yoy_pct",
        detector=RobustZ(),
        severity="warning",
        subjects={IMPORTS: "Russia's imports from China"},
    )
    assert [f.summary for f in findings] == [
        "Russia's imports from China fell 43.9% YoY in January 2015, unusually low against the previous "
        "36 months (median +1.1%, robust z -5.1)."
    ]


# --- parameters -----------------------------------------------------------------------------


def test_defaults_and_params() -> None:
    assert RobustZ().params() == {"threshold": 3.5, "direction": "both", "window": 36, "min_history": 36}
    seasonal = build_detector("robust_z", {"seasonal": True, "min_history": 3})
    assert seasonal == RobustZ(seasonal=True, years=5, min_history=3)
    assert seasonal.params() == {
        "threshold": 3.5,
        "direction": "both",
        "seasonal": True,
        "years": 5,
        "min_history": 3,
    }
    assert RobustZ(threshold=np.float32(3)).threshold == 3.0  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"threshold": 0}, "robust_z.threshold must be > 0, got 0"),
        ({"threshold": "3"}, "robust_z.threshold must be a number, got '3'"),
        ({"direction": "up"}, "robust_z.direction must be 'above', 'below' or 'both', got 'up'"),
        ({"window": 2}, "robust_z.window must be >= 3, got 2"),
        ({"window": 12.0}, "robust_z.window must be an integer, got 12.0"),
        ({"seasonal": "yes"}, "robust_z.seasonal must be true or false, got 'yes'"),
        ({"seasonal": True, "window": 12}, "robust_z.window does not apply when seasonal is true; use years"),
        ({"years": 5}, "robust_z.years applies only when seasonal is true"),
        ({"seasonal": True, "years": 2}, "robust_z.years must be >= 3, got 2"),
        ({"min_history": 40}, "robust_z.min_history must be <= window (36), got 40"),
        ({"seasonal": True, "min_history": 6}, "robust_z.min_history must be <= years (5), got 6"),
        ({"min_history": 2}, "robust_z.min_history must be >= 3, got 2"),
        ({"windows": 3}, None),
    ],
)
def test_invalid_parameters_are_named(params: dict[str, Any], message: str | None) -> None:
    with pytest.raises(DetectorConfigError) as caught:
        build_detector("robust_z", params)
    if message is not None:
        assert str(caught.value) == message
    else:
        assert str(caught.value).startswith("robust_z: unknown parameter(s) 'windows'; known: ")


@pytest.mark.parametrize(
    "detector",
    [RobustZ(window=4, min_history=3), RobustZ(seasonal=True, years=3)],
    ids=["trailing", "seasonal"],
)
def test_robust_z_does_not_mutate_its_input(make_panel: PanelFactory, detector: RobustZ) -> None:
    values = make_panel("M", "2020-01", a=[1, 5, None, 2, 3, 0, 9] * 6, b=[None, 2, 2, 2, 2, 50, 2] * 6)
    before = values.copy(deep=True)
    detector.scan(values)
    detector.mask(values)
    detector.history(values)
    detector.short_history(values)
    pd.testing.assert_frame_equal(values, before)


# --- properties -----------------------------------------------------------------------------


def _naive_z(column: list[float], lags: list[int], min_history: int) -> list[float]:
    """Per-series pandas median and MAD, one cell at a time."""
    scores = []
    for t, x in enumerate(column):
        history = pd.Series([column[t - lag] for lag in lags if t - lag >= 0], dtype=float).dropna()
        if math.isnan(x) or len(history) < min_history:
            scores.append(math.nan)
            continue
        median = history.median()
        deviation = (history - median).abs()
        mad = deviation.median()
        if mad > 0:
            scores.append(0.6745 * (x - median) / mad)
        elif deviation.mean() > 0:
            scores.append((x - median) / (1.253314 * deviation.mean()))
        else:
            scores.append(math.nan)
    return scores


_value = st.one_of(st.just(math.nan), st.integers(-20, 20).map(float), st.floats(-100, 100))


@settings(max_examples=40, deadline=None)
@given(
    columns=st.integers(1, 30).flatmap(
        lambda n_rows: st.lists(st.lists(_value, min_size=n_rows, max_size=n_rows), min_size=1, max_size=3)
    ),
    seasonal=st.booleans(),
    span=st.integers(3, 7),
    slack=st.integers(0, 3),
    freq=st.sampled_from(["M", "Q"]),
)
def test_robust_z_matches_a_naive_pandas_computation(
    make_panel: PanelFactory,
    columns: list[list[float]],
    seasonal: bool,
    span: int,
    slack: int,
    freq: str,
) -> None:
    min_history = max(3, span - slack)
    if seasonal:
        detector = RobustZ(seasonal=True, years=span, min_history=min_history)
        step = {"M": 12, "Q": 4}[freq]
    else:
        detector = RobustZ(window=span, min_history=min_history)
        step = 1
    values = make_panel(freq, "2000-01", **{f"s{i}": col for i, col in enumerate(columns)})
    scan = detector.scan(values)
    lags = [step * k for k in range(1, span + 1)]
    for i, column in enumerate(columns):
        expected = np.array(_naive_z(column, lags, min_history))
        expected[~np.isfinite(expected)] = np.nan  # the naive sum can overflow; scores are never inf
        np.testing.assert_allclose(scan.evidence["z"][:, i], expected, rtol=1e-9, atol=1e-9)
        clear = ~(np.abs(np.abs(expected) - 3.5) < 1e-9)
        with np.errstate(invalid="ignore"):
            assert (scan.mask[clear, i] == (np.abs(expected[clear]) > 3.5)).all()


_extreme = st.one_of(
    st.floats(allow_nan=True, allow_infinity=False),
    st.sampled_from([0.0, -0.0, math.nan, 5e-324, 1e308, -1e308]),
)


@settings(max_examples=60, deadline=None)
@given(values=st.lists(_extreme, min_size=1, max_size=30), seasonal=st.booleans())
def test_robust_z_never_gives_inf(make_panel: PanelFactory, values: list[float], seasonal: bool) -> None:
    panel = make_panel("Q", "2000Q1", a=values)
    detector = RobustZ(seasonal=True, years=3) if seasonal else RobustZ(window=3)
    scan = detector.scan(panel)
    assert not np.isinf(scan.evidence["z"]).any()
    assert not np.isinf(scan.reference).any()


def test_robust_z_on_a_transformed_panel_is_finite(rc_panel: pd.DataFrame) -> None:
    values = apply_transform("mom_pct", rc_panel)
    scan = RobustZ(window=12, min_history=10).scan(values)
    assert np.isfinite(scan.evidence["z"][~np.isnan(scan.evidence["z"])]).all()
    assert scan.mask.shape == values.shape


# --- the compiled blocks against a per-cell numpy computation -------------------------------


def _scores_by_numpy(values: np.ndarray, lags: list[int], min_history: int) -> tuple[np.ndarray, ...]:
    """(median, z, history) cell by cell with np.median; non-finite values are missing history."""
    rows, cols = values.shape
    median, z = np.full((rows, cols), np.nan), np.full((rows, cols), np.nan)
    history = np.zeros((rows, cols), dtype=np.int32)
    for t in range(rows):
        for j in range(cols):
            past = np.array([values[t - lag, j] for lag in lags if t - lag >= 0])
            past = np.sort(past[np.isfinite(past)])
            history[t, j] = len(past)
            if len(past) < min_history or not np.isfinite(values[t, j]):
                continue
            m = np.median(past)
            deviation = np.abs(past - m)
            mad = np.median(deviation)
            scale = mad / 0.6745 if mad > 0 else 1.253314 * deviation.mean()
            if np.isinf(m):
                continue
            median[t, j] = m  # kept where a constant history leaves z undefined
            score = (values[t, j] - m) / scale if scale > 0 else np.nan
            z[t, j] = score if np.isfinite(score) else np.nan
    return median, z, history


def _awkward(rng: np.random.Generator, rows: int, cols: int) -> np.ndarray:
    """Noise and small integers (ties, zero MADs) with gaps, zeros and infinities."""
    values = np.where(rng.random((rows, cols)) < 0.5, rng.normal(0.0, 10.0, (rows, cols)), 0.0)
    values += rng.integers(-2, 3, (rows, cols))
    special = rng.random((rows, cols))
    values[special < 0.08] = np.nan
    values[(special >= 0.08) & (special < 0.10)] = np.inf
    values[(special >= 0.10) & (special < 0.11)] = -np.inf
    values[:, :3] = 5.0  # constant series: never scored
    values[:, rng.random(cols) < 0.3] += (100.0 * (np.arange(rows) % 7))[:, None]  # jumps
    return np.asfortranarray(values)


@pytest.mark.parametrize(
    ("detector", "step"),
    [
        (RobustZ(window=6, min_history=4), 1),
        (RobustZ(window=7), 1),
        (RobustZ(seasonal=True, years=3), 4),
        (RobustZ(seasonal=True, years=4, min_history=3), 4),
    ],
    ids=["trailing-even", "trailing-odd", "seasonal", "seasonal-partial"],
)
def test_scan_matches_numpy_cell_by_cell_across_blocks(detector: RobustZ, step: int) -> None:
    values = _awkward(np.random.default_rng(detector.span + step), 40, 300)  # two blocks of columns
    panel = pd.DataFrame(values, index=pd.period_range("2000Q1", periods=40, freq="Q"))
    panel.columns = [f"s{j}" for j in range(300)]
    lags = [step * k for k in range(1, detector.span + 1)]
    median, z, history = _scores_by_numpy(values, lags, detector.history_needed)
    assert np.isfinite(z).sum() > 1000
    for direction in ("both", "above", "below"):
        flagging = RobustZ(**{**detector.params(), "direction": direction})
        scan = flagging.scan(panel)
        np.testing.assert_array_equal(scan.evidence["history"], history)
        np.testing.assert_allclose(scan.reference, median, rtol=1e-14, atol=0)
        np.testing.assert_allclose(scan.evidence["z"], z, rtol=1e-12, atol=1e-12)
        got = scan.evidence["z"]
        with np.errstate(invalid="ignore"):
            expected = {"both": np.abs(got) > 3.5, "above": got > 3.5, "below": got < -3.5}[direction]
        np.testing.assert_array_equal(scan.mask, expected)
        assert scan.mask.any()
