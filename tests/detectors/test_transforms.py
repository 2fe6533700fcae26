from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detectors import (
    TRANSFORMS,
    DetectorConfigError,
    PanelError,
    UnknownTransformError,
    apply_transform,
    check_transform,
)
from detectors.transforms import (
    bound_phrase,
    diff,
    from_ytd,
    is_percent_change,
    level,
    log,
    mom_pct,
    rolling_mean,
    rolling_sum,
    transform_label,
    value_kind,
    value_phrase,
    yoy_pct,
    ytd_sum,
)

PanelFactory = Callable[..., pd.DataFrame]

NAN = float("nan")


def _values(frame: pd.DataFrame, column: str) -> list[float | None]:
    """Column as a list with NaN as None, rounded so expectations read like the data."""
    return [None if math.isnan(v) else round(v, 6) for v in frame[column]]


def test_mom_pct_exact_values_with_gap_and_zero_base(make_panel: PanelFactory) -> None:
    panel = make_panel("M", "2020-01", a=[100, 110, None, 121, 0, 50, -50, 25])
    assert _values(mom_pct(panel), "a") == [
        None,  # no previous period
        10.0,
        None,  # gap
        None,  # base is the gap
        -100.0,
        None,  # zero base gives NaN, not inf
        -200.0,
        -150.0,
    ]


def test_yoy_pct_monthly_compares_same_month_last_year(make_panel: PanelFactory) -> None:
    # 2020-04 is a zero base, 2020-05 a gap, 2021-03 a gap.
    first_year = [100, 80, 100, 0, None, 100, 100, 100, 100, 100, 100, 100]
    second_year = [90, 0, None, 130, 100, 100, 100, 100, 100, 100, 100, 50]
    panel = make_panel("M", "2020-01", a=first_year + second_year)
    result = _values(yoy_pct(panel), "a")
    assert result[:12] == [None] * 12
    assert result[12:] == [-10.0, -100.0, None, None, None, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -50.0]


def test_yoy_pct_quarterly_uses_lag_four(make_panel: PanelFactory) -> None:
    panel = make_panel("Q", "2019Q1", a=[100, 200, 300, 400, 110, 150, None, 0, 121])
    assert _values(yoy_pct(panel), "a") == [None] * 4 + [10.0, -25.0, None, -100.0, 10.0]


def test_yoy_pct_annual_equals_mom_pct(make_panel: PanelFactory) -> None:
    panel = make_panel("Y", "2015", a=[100, 80, None, 100, 0, 7])
    expected = [None, -20.0, None, None, -100.0, None]
    assert _values(yoy_pct(panel), "a") == expected
    assert _values(mom_pct(panel), "a") == expected


def test_short_panel_has_no_yoy(make_panel: PanelFactory) -> None:
    panel = make_panel("M", "2020-01", a=[1.0, 2.0, 3.0])
    assert _values(yoy_pct(panel), "a") == [None, None, None]


def _apply(name: str, panel: pd.DataFrame) -> pd.DataFrame:
    """Apply a transform, giving `share` the panel's first column as parent and `mirror_gap`
    as mirror."""
    params = {"parent": str(panel.columns[0])} if name == "share" else \
        {"mirror": str(panel.columns[0])} if name == "mirror_gap" else {}
    return apply_transform(name, panel, **params)


def test_empty_panel() -> None:
    panel = pd.DataFrame({"a": pd.Series([], dtype=float)}, index=pd.PeriodIndex([], freq="M"))
    for name, transform in TRANSFORMS.items():
        assert _apply(name, panel).shape == (0, 1)
        if name not in ("share", "mirror_gap"):
            assert transform(panel).shape == (0, 1)


def test_columns_are_independent(make_panel: PanelFactory) -> None:
    panel = make_panel("M", "2020-01", a=[1, 2, 4], b=[10, None, 5])
    result = mom_pct(panel)
    assert _values(result, "a") == [None, 100.0, 100.0]
    assert _values(result, "b") == [None, None, None]


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_output_keeps_index_and_columns(make_panel: PanelFactory, name: str) -> None:
    panel = make_panel("Q", "2020Q1", x=[1, 2, 3, 4, 5, 6], y=[6, 5, 4, 3, 2, 1])
    result = _apply(name, panel)
    pd.testing.assert_index_equal(result.index, panel.index)
    pd.testing.assert_index_equal(result.columns, panel.columns)
    assert all(dtype == np.float64 for dtype in result.dtypes)


def test_level_is_a_new_frame_with_the_same_values(make_panel: PanelFactory) -> None:
    panel = make_panel("M", "2020-01", a=[1, None, 3])
    result = level(panel)
    pd.testing.assert_frame_equal(result, panel)
    result.iloc[0, 0] = 99.0
    assert panel.iloc[0, 0] == 1.0


def test_registry_names() -> None:
    assert set(TRANSFORMS) == {
        "level", "diff", "mom_pct", "yoy_pct", "log", "rolling_sum", "rolling_mean",
        "ytd_sum", "from_ytd", "share", "mirror_gap",
    }  # fmt: skip
    with pytest.raises(TypeError):
        TRANSFORMS["cube"] = level  # type: ignore[index]


def test_unknown_transform_names_the_known_ones(make_panel: PanelFactory) -> None:
    panel = make_panel("M", "2020-01", a=[1.0])
    with pytest.raises(UnknownTransformError) as caught:
        apply_transform("pct", panel)
    assert str(caught.value) == (
        "unknown transform 'pct'; known transforms: diff, from_ytd, level, log, mirror_gap, mom_pct, "
        "rolling_mean, rolling_sum, share, yoy_pct, ytd_sum"
    )
    assert isinstance(caught.value, KeyError)
    assert isinstance(caught.value, ValueError)


def test_is_percent_change() -> None:
    assert is_percent_change("mom_pct")
    assert is_percent_change("yoy_pct")
    assert not is_percent_change("level")
    with pytest.raises(UnknownTransformError):
        is_percent_change("nope")


@pytest.mark.parametrize(
    ("name", "freq", "label"),
    [
        ("yoy_pct", "M", "YoY"),
        ("yoy_pct", "Q-DEC", "YoY"),
        ("mom_pct", "M", "MoM"),
        ("mom_pct", "Q-DEC", "QoQ"),
        ("mom_pct", "Y-DEC", "YoY"),
        ("level", "M", ""),
        ("level", "Q", ""),
    ],
)
def test_transform_label(name: str, freq: str, label: str) -> None:
    assert transform_label(name, freq) == label


def test_transform_label_defaults_to_monthly() -> None:
    assert transform_label("mom_pct") == "MoM"


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_transforms_do_not_mutate_their_input(make_panel: PanelFactory, name: str) -> None:
    panel = make_panel("M", "2020-01", a=[1, 0, None, 4] * 4, b=[None, 2, 3, 0] * 4)
    before = panel.copy(deep=True)
    _apply(name, panel)
    pd.testing.assert_frame_equal(panel, before)


_any_float = st.one_of(
    st.floats(allow_nan=True, allow_infinity=False),
    st.sampled_from([0.0, -0.0, NAN, 5e-324, 1e308, -1e308]),
)


@settings(max_examples=150, deadline=None)
@given(
    freq=st.sampled_from(["M", "Q", "Y"]),
    values=st.lists(_any_float, min_size=1, max_size=40),
)
def test_percent_changes_never_produce_inf(
    make_panel: PanelFactory, freq: str, values: list[float]
) -> None:
    panel = make_panel(freq, "2000", a=values)
    for transform in (mom_pct, yoy_pct):
        result = transform(panel).to_numpy()
        assert not np.isinf(result).any()


@settings(max_examples=150, deadline=None)
@given(
    freq=st.sampled_from(["M", "Q", "Y"]),
    values=st.lists(
        st.one_of(st.none(), st.just(0.0), st.floats(-1e6, 1e6, allow_nan=False)),
        min_size=1,
        max_size=40,
    ),
)
def test_yoy_pct_matches_a_plain_loop(
    make_panel: PanelFactory, freq: str, values: list[float | None]
) -> None:
    lag = {"M": 12, "Q": 4, "Y": 1}[freq]
    expected: list[float | None] = []
    for t, current in enumerate(values):
        base = values[t - lag] if t >= lag else None
        change = None
        if current is not None and base is not None and base != 0:
            change = 100.0 * (current / base - 1.0)
        # Overflow (a subnormal base) is as undefined as a zero base.
        expected.append(change if change is not None and math.isfinite(change) else None)
    got = yoy_pct(make_panel(freq, "2000", a=values))["a"].tolist()
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        if e is None:
            assert math.isnan(g)
        else:
            assert g == pytest.approx(e, rel=1e-12, abs=1e-9)


def _pct_change_by_numpy(values: np.ndarray, lag: int) -> np.ndarray:
    """The whole-array numpy form the compiled pass replaced: lagged copy, ratio, masks."""
    base = np.full_like(values, np.nan)
    if lag < len(values):
        base[lag:] = values[: len(values) - lag]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        change = 100.0 * (values / base - 1.0)
    change[base == 0.0] = np.nan
    change[~np.isfinite(change)] = np.nan
    return change


def _awkward_panel(rng: np.random.Generator, rows: int, cols: int, order: str) -> pd.DataFrame:
    """Trade-like values with gaps, zeros of both signs, infinities, ties and overflow."""
    values = np.exp(rng.normal(5.0, 3.0, (rows, cols))) * rng.choice([-1.0, 1.0], (rows, cols), p=[0.1, 0.9])
    special = np.array([np.nan, 0.0, -0.0, np.inf, -np.inf, 5e-324, 1e308, -1e308, 100.0])
    pick = rng.random((rows, cols)) < 0.2
    values[pick] = rng.choice(special, int(pick.sum()))
    index = pd.period_range("2000-01", periods=rows, freq="M")
    return pd.DataFrame(np.asarray(values, order=order), index=index, columns=[f"s{i}" for i in range(cols)])


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize(("rows", "cols"), [(40, 5000), (7, 3), (12, 2), (0, 4)])
def test_percent_changes_match_the_numpy_form_bit_for_bit(rows: int, cols: int, order: str) -> None:
    panel = _awkward_panel(np.random.default_rng(rows * cols), rows, cols, order)
    before = panel.copy(deep=True)
    for transform, lag in ((mom_pct, 1), (yoy_pct, 12)):
        got = transform(panel).to_numpy()
        expected = _pct_change_by_numpy(panel.to_numpy(dtype=float), lag)
        assert got.view(np.int64).tolist() == expected.view(np.int64).tolist()
        assert not np.shares_memory(got, panel.to_numpy())
    pd.testing.assert_frame_equal(panel, before)


# --- diff, log, rolling windows -------------------------------------------------------------


def test_diff_exact_values_with_gap(make_panel: PanelFactory) -> None:
    panel = make_panel("M", "2020-01", a=[100, 110, None, 121, 0, 50])
    assert _values(diff(panel), "a") == [None, 10.0, None, None, -121.0, 50.0]


def test_diff_quarterly_is_on_the_previous_quarter(make_panel: PanelFactory) -> None:
    panel = make_panel("Q", "2019Q4", a=[10, 7, 7, 12.5])
    assert _values(diff(panel), "a") == [None, -3.0, 0.0, 5.5]


def test_log_of_non_positive_values_is_nan(make_panel: PanelFactory) -> None:
    panel = make_panel("Y", "2015", a=[1, math.e, 0, -1, None, 100])
    assert _values(log(panel), "a") == [0.0, 1.0, None, None, None, round(math.log(100), 6)]


def test_rolling_sum_and_mean_with_a_gap(make_panel: PanelFactory) -> None:
    panel = make_panel("M", "2020-01", a=[1, 2, 3, None, 5, 6, 7, 8])
    assert _values(rolling_sum(panel, window=3), "a") == [None, None, 6, None, None, None, 18, 21]
    assert _values(rolling_mean(panel, window=3), "a") == [None, None, 2, None, None, None, 6, 7]


def test_rolling_window_defaults_to_one_year(make_panel: PanelFactory) -> None:
    quarterly = make_panel("Q", "2019Q1", a=[1, 2, 3, 4, 5, 6])
    assert _values(rolling_sum(quarterly), "a") == [None, None, None, 10, 14, 18]
    assert _values(apply_transform("rolling_mean", quarterly), "a") == [None, None, None, 2.5, 3.5, 4.5]
    annual = make_panel("Y", "2019", a=[1, None, 3])
    assert _values(rolling_sum(annual), "a") == [1, None, 3]


def test_rolling_window_longer_than_the_panel(make_panel: PanelFactory) -> None:
    panel = make_panel("M", "2020-01", a=[1, 2])
    assert _values(apply_transform("rolling_sum", panel, window=3), "a") == [None, None]


# --- year to date ---------------------------------------------------------------------------


def test_ytd_sum_monthly_restarts_each_year_and_stops_at_a_gap(make_panel: PanelFactory) -> None:
    # 2020-11 .. 2022-02: 2020 started before the panel; 2021-04 is missing.
    a = [5, 5, 1, 2, 3, None, 4, 1, 1, 1, 1, 1, 1, 1, 7, 1]
    assert _values(ytd_sum(make_panel("M", "2020-11", a=a)), "a") == (
        [None, None, 1, 3, 6] + [None] * 9 + [7, 8]
    )


def test_ytd_sum_quarterly_and_annual(make_panel: PanelFactory) -> None:
    quarterly = make_panel("Q", "2020Q3", a=[1, 2, 3, 4, 5, 6, 7])
    assert _values(ytd_sum(quarterly), "a") == [None, None, 3, 7, 12, 18, 7]
    annual = make_panel("Y", "2019", a=[1, None, 3])
    assert _values(ytd_sum(annual), "a") == [1, None, 3]


def test_from_ytd_monthly(make_panel: PanelFactory) -> None:
    # 2020-12 .. 2022-01: 2020-12 has no known predecessor; 2021-04 is missing.
    ytd = [50, 10, 25, 30, None, 45, 50, 60, 70, 80, 90, 100, 110, 12]
    assert _values(from_ytd(make_panel("M", "2020-12", a=ytd)), "a") == [
        None, 10, 15, 5, None, None, 5, 10, 10, 10, 10, 10, 10, 12,
    ]  # fmt: skip


def test_from_ytd_quarterly_and_annual(make_panel: PanelFactory) -> None:
    assert _values(from_ytd(make_panel("Q", "2021Q1", a=[10, 25, 45, 70, 5])), "a") == [
        10, 15, 20, 25, 5,
    ]  # fmt: skip
    assert _values(from_ytd(make_panel("Y", "2019", a=[1, None, 3])), "a") == [1, None, 3]


def _ytd_by_plain_loop(periods: pd.PeriodIndex, values: list[float | None]) -> list[float | None]:
    out: list[float | None] = []
    total: float | None = None
    for t, (period, value) in enumerate(zip(periods, values, strict=True)):
        if (period - 1).year != period.year:
            total = 0.0
        elif t == 0:
            total = None  # the year began before the panel
        total = None if total is None or value is None else total + value
        out.append(total)
    return out


def _from_ytd_by_plain_loop(periods: pd.PeriodIndex, ytd: list[float | None]) -> list[float | None]:
    out: list[float | None] = []
    for t, (period, value) in enumerate(zip(periods, ytd, strict=True)):
        if (period - 1).year != period.year:
            base: float | None = 0.0
        else:
            base = ytd[t - 1] if t else None
        out.append(None if value is None or base is None else value - base)
    return out


def _raw(frame: pd.DataFrame, column: str) -> list[float | None]:
    return [None if math.isnan(v) else float(v) for v in frame[column]]


def _same(got: list[float | None], expected: list[float | None], tol: float = 1e-9) -> None:
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        assert (g is None) == (e is None), (got, expected)
        if e is not None:
            assert g == pytest.approx(e, rel=tol, abs=tol)


_amount = st.one_of(st.none(), st.floats(-1e6, 1e6, allow_nan=False))


@settings(max_examples=60, deadline=None)
@given(
    freq=st.sampled_from(["M", "Q", "Y"]),
    start=st.sampled_from(["2019-01", "2019-05", "2019-12"]),
    values=st.lists(_amount, min_size=1, max_size=40),
)
def test_ytd_transforms_match_plain_loops(
    make_panel: PanelFactory, freq: str, start: str, values: list[float | None]
) -> None:
    panel = make_panel(freq, start, a=values)
    _same(_raw(ytd_sum(panel), "a"), _ytd_by_plain_loop(panel.index, values))
    _same(_raw(from_ytd(panel), "a"), _from_ytd_by_plain_loop(panel.index, values))


@settings(max_examples=60, deadline=None)
@given(
    freq=st.sampled_from(["M", "Q"]),
    values=st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=40),
)
def test_ytd_round_trip(make_panel: PanelFactory, freq: str, values: list[float]) -> None:
    panel = make_panel(freq, "2019-01", a=values)  # starts on a year boundary, no gaps
    tol = 1e-9 * max(1.0, *map(abs, values)) * len(values)
    back = from_ytd(ytd_sum(panel))["a"].to_numpy()
    assert back == pytest.approx(values, abs=tol)
    again = ytd_sum(from_ytd(panel))["a"].to_numpy()
    assert again == pytest.approx(values, abs=tol)


@settings(max_examples=60, deadline=None)
@given(values=st.lists(_amount, min_size=1, max_size=30), window=st.integers(1, 6))
def test_rolling_sum_matches_a_plain_loop(
    make_panel: PanelFactory, values: list[float | None], window: int
) -> None:
    expected: list[float | None] = []
    for t in range(len(values)):
        chunk = values[t - window + 1 : t + 1] if t >= window - 1 else [None]
        expected.append(None if None in chunk else sum(v for v in chunk if v is not None))
    panel = make_panel("M", "2000-01", a=values)
    _same(_raw(rolling_sum(panel, window=window), "a"), expected)
    means = [None if e is None else e / window for e in expected]
    _same(_raw(rolling_mean(panel, window=window), "a"), means)


@settings(max_examples=60, deadline=None)
@given(
    freq=st.sampled_from(["M", "Q", "Y"]),
    rows=st.lists(st.tuples(_any_float, _any_float), min_size=1, max_size=30),
)
def test_no_transform_produces_inf(
    make_panel: PanelFactory, freq: str, rows: list[tuple[float, float]]
) -> None:
    panel = make_panel(freq, "2000", a=[r[0] for r in rows], b=[r[1] for r in rows])
    for name in TRANSFORMS:
        result = _apply(name, panel).to_numpy()
        assert not np.isinf(result).any(), name


# --- share ----------------------------------------------------------------------------------


def test_share_of_one_parent_series(make_panel: PanelFactory) -> None:
    panel = make_panel("M", "2020-01", total=[100, 0, None, 200, 50], a=[25, 5, 5, None, 60])
    result = apply_transform("share", panel, parent="total")
    assert _values(result, "a") == [25, None, None, None, 120]
    assert _values(result, "total") == [100, None, None, 100, 100]


def test_share_with_a_parent_per_series(make_panel: PanelFactory) -> None:
    panel = make_panel("Q", "2020Q1", total=[100, 80], a=[50, 20], b=[10, 10])
    result = apply_transform("share", panel, parent={"a": "total", "b": "a"})
    assert _values(result, "a") == [50, 25]
    assert _values(result, "b") == [20, 50]
    assert _values(result, "total") == [None, None]  # no parent given


def test_share_parent_missing_from_the_panel_is_an_error(make_panel: PanelFactory) -> None:
    panel = make_panel("M", "2020-01", a=[1.0], b=[2.0])
    with pytest.raises(PanelError) as caught:
        apply_transform("share", panel, parent={"a": "zz", "b": "yy"})
    assert str(caught.value) == "share.parent: series not in the panel: 'yy', 'zz'"


def test_parameterised_transforms_do_not_mutate_their_input(make_panel: PanelFactory) -> None:
    panel = make_panel("M", "2020-01", a=[1, 0, None, 4] * 4, b=[None, 2, 3, 0] * 4)
    before = panel.copy(deep=True)
    apply_transform("share", panel, parent={"a": "b", "b": "a"})
    apply_transform("share", panel, parent="b")
    apply_transform("rolling_sum", panel, window=3)
    apply_transform("rolling_mean", panel, window=5)
    pd.testing.assert_frame_equal(panel, before)


# --- parameters and wording -----------------------------------------------------------------


def test_check_transform_normalises_parameters() -> None:
    assert check_transform("yoy_pct") == {}
    assert check_transform("rolling_sum", {"window": np.int64(6)}) == {"window": 6}
    assert check_transform("share", {"parent": {"a": "t"}}) == {"parent": {"a": "t"}}


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("yoy_pct", {"window": 3}, "yoy_pct: unknown parameter(s) 'window'; yoy_pct takes no parameters"),
        ("rolling_sum", {"windw": 3}, "rolling_sum: unknown parameter(s) 'windw'; known: window"),
        ("rolling_sum", {"window": 0}, "rolling_sum.window must be >= 1, got 0"),
        ("rolling_mean", {"window": 2.0}, "rolling_mean.window must be an integer, got 2.0"),
        ("share", {}, "share: missing parameter(s) 'parent'"),
        (
            "share",
            {"parent": ["a"]},
            "share.parent must be a series id or a mapping of series id to parent id, got ['a']",
        ),
        (
            "share",
            {"parent": {"a": 1}},
            "share.parent must be a series id or a mapping of series id to parent id, got {'a': 1}",
        ),
    ],
)
def test_check_transform_names_the_bad_parameter(
    name: str, params: dict[str, object], message: str
) -> None:
    with pytest.raises(DetectorConfigError) as caught:
        check_transform(name, params)
    assert str(caught.value) == message


def test_check_transform_rejects_unknown_names() -> None:
    with pytest.raises(UnknownTransformError, match="unknown transform 'cube'"):
        check_transform("cube", {})


def test_value_kinds() -> None:
    assert {name: value_kind(name) for name in sorted(TRANSFORMS)} == {
        "diff": "change",
        "from_ytd": "level",
        "level": "level",
        "log": "level",
        "mirror_gap": "change",
        "mom_pct": "percent_change",
        "rolling_mean": "level",
        "rolling_sum": "level",
        "share": "percent_level",
        "yoy_pct": "percent_change",
        "ytd_sum": "level",
    }
    assert not is_percent_change("share")
    assert not is_percent_change("diff")


@pytest.mark.parametrize(
    ("name", "freq", "params", "label"),
    [
        ("diff", "M", {}, "MoM"),
        ("diff", "Q-DEC", {}, "QoQ"),
        ("rolling_sum", "M", {}, "12-month sum"),
        ("rolling_sum", "M", {"window": 3}, "3-month sum"),
        ("rolling_mean", "Q", {}, "4-quarter average"),
        ("ytd_sum", "M", {}, "year to date"),
        ("from_ytd", "M", {}, ""),
        ("log", "Y", {}, "log"),
        ("share", "M", {"parent": "t"}, "share"),
    ],
)
def test_transform_label_for_new_transforms(
    name: str, freq: str, params: dict[str, object], label: str
) -> None:
    assert transform_label(name, freq, **params) == label


@pytest.mark.parametrize(
    ("x", "name", "params", "phrase", "bound"),
    [
        (-21.6, "yoy_pct", {}, "fell 21.6% YoY", "-21.6%"),
        (-120.54, "diff", {}, "fell 120.5 MoM", "-120.5"),
        (2500, "diff", {}, "rose 2,500 MoM", "+2,500"),
        (0.04, "diff", {}, "showed no change MoM", "0"),
        (45000, "rolling_sum", {"window": 12}, "stood at 45,000 (12-month sum)", "45,000"),
        (3750.25, "rolling_mean", {}, "stood at 3,750.2 (12-month average)", "3,750.2"),
        (30000, "ytd_sum", {}, "stood at 30,000 (year to date)", "30,000"),
        (1234.5, "from_ytd", {}, "stood at 1,234.5", "1,234.5"),
        (8.234, "log", {}, "stood at 8.2 (log)", "8.2"),
        (12.34, "share", {"parent": "t"}, "stood at 12.3% of the total", "12.34%"),
    ],
)
def test_value_and_bound_phrases(
    x: float, name: str, params: dict[str, object], phrase: str, bound: str
) -> None:
    assert value_phrase(x, name, "M", **params) == phrase
    assert bound_phrase(x, name) == bound
