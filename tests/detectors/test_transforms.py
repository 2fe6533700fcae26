from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detectors import TRANSFORMS, UnknownTransformError, apply_transform
from detectors.transforms import is_percent_change, level, mom_pct, transform_label, yoy_pct

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


def test_empty_panel() -> None:
    panel = pd.DataFrame({"a": pd.Series([], dtype=float)}, index=pd.PeriodIndex([], freq="M"))
    for transform in TRANSFORMS.values():
        assert transform(panel).shape == (0, 1)


def test_columns_are_independent(make_panel: PanelFactory) -> None:
    panel = make_panel("M", "2020-01", a=[1, 2, 4], b=[10, None, 5])
    result = mom_pct(panel)
    assert _values(result, "a") == [None, 100.0, 100.0]
    assert _values(result, "b") == [None, None, None]


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_output_keeps_index_and_columns(make_panel: PanelFactory, name: str) -> None:
    panel = make_panel("Q", "2020Q1", x=[1, 2, 3, 4, 5, 6], y=[6, 5, 4, 3, 2, 1])
    result = apply_transform(name, panel)
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
    assert set(TRANSFORMS) == {"level", "mom_pct", "yoy_pct"}
    with pytest.raises(TypeError):
        TRANSFORMS["log"] = level  # type: ignore[index]


def test_unknown_transform_names_the_known_ones(make_panel: PanelFactory) -> None:
    panel = make_panel("M", "2020-01", a=[1.0])
    with pytest.raises(UnknownTransformError) as caught:
        apply_transform("pct", panel)
    assert str(caught.value) == "unknown transform 'pct'; known transforms: level, mom_pct, yoy_pct"
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
    apply_transform(name, panel)
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
