from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pandas.tseries.offsets import MonthEnd, QuarterEnd, Week, YearEnd

from detectors import PanelError, check_panel, periods_per_year
from detectors.panel import freq_code


def _monthly(n: int = 3, **columns: object) -> pd.DataFrame:
    index = pd.period_range("2020-01", periods=n, freq="M")
    data = columns or {"a": np.arange(n, dtype=float)}
    return pd.DataFrame(data, index=index)


@pytest.mark.parametrize("freq", ["M", "Q", "Q-MAR", "Y", "Y-JUN"])
def test_valid_panels_pass(freq: str) -> None:
    index = pd.period_range("2020", periods=4, freq=freq)
    panel = pd.DataFrame({"a": [1.0, np.nan, 3.0, 4.0], "b": np.zeros(4)}, index=index)
    check_panel(panel)


def test_empty_panel_passes() -> None:
    check_panel(pd.DataFrame(index=pd.PeriodIndex([], freq="M")))


def test_float32_column_is_accepted() -> None:
    check_panel(_monthly(a=np.ones(3, dtype=np.float32)))


def test_not_a_dataframe() -> None:
    with pytest.raises(PanelError, match="DataFrame, got Series"):
        check_panel(pd.Series([1.0]))


def test_datetime_index_is_rejected() -> None:
    panel = pd.DataFrame({"a": [1.0, 2.0]}, index=pd.date_range("2020-01-31", periods=2, freq="ME"))
    with pytest.raises(PanelError, match="PeriodIndex, got DatetimeIndex"):
        check_panel(panel)


@pytest.mark.parametrize("freq", ["D", "W", "2M"])
def test_unsupported_frequency_is_rejected(freq: str) -> None:
    panel = pd.DataFrame({"a": [1.0, 2.0]}, index=pd.period_range("2020-01", periods=2, freq=freq))
    with pytest.raises(PanelError, match=r"unsupported frequency .*monthly, quarterly or annual"):
        check_panel(panel)


def test_unsorted_index_is_rejected() -> None:
    panel = _monthly().iloc[[1, 0, 2]]
    with pytest.raises(PanelError, match="not sorted"):
        check_panel(panel)


def test_duplicate_periods_are_named() -> None:
    panel = _monthly().iloc[[0, 1, 1, 2]]
    with pytest.raises(PanelError, match="duplicate periods: 2020-02"):
        check_panel(panel)


def test_nat_in_index_is_rejected() -> None:
    index = pd.PeriodIndex(["2020-01", None], freq="M")
    with pytest.raises(PanelError, match="NaT"):
        check_panel(pd.DataFrame({"a": [1.0, 2.0]}, index=index))


def test_gap_in_index_names_the_missing_period() -> None:
    panel = _monthly(5).iloc[[0, 2, 3]]
    with pytest.raises(PanelError, match=r"missing 2020-02$"):
        check_panel(panel)
    panel = _monthly(5).iloc[[0, 4]]
    with pytest.raises(PanelError, match="missing 2020-02 and 2 more"):
        check_panel(panel)


def test_non_str_column_name_is_named() -> None:
    panel = _monthly()
    panel.columns = [7]
    with pytest.raises(PanelError, match="str series ids, got 7"):
        check_panel(panel)


def test_duplicate_column_names_are_named() -> None:
    panel = pd.concat([_monthly(), _monthly()], axis=1)
    with pytest.raises(PanelError, match="duplicate columns: 'a'"):
        check_panel(panel)


PANDAS_MAJOR = int(pd.__version__.split(".")[0])


@pytest.mark.parametrize(
    ("values", "dtype"),
    [
        (np.array([1, 2, 3]), "int64"),
        # text columns are inferred as pandas' str dtype from pandas 3 on, object before
        (np.array(["1", "2", "3"], dtype=object), "str" if PANDAS_MAJOR >= 3 else "object"),
        (np.array([1.0, "x", 3.0], dtype=object), "object"),
        (pd.array([1.0, None, 3.0], dtype="Float64"), "Float64"),
        (np.array([True, False, True]), "bool"),
    ],
)
def test_non_float_column_is_named(values: object, dtype: str) -> None:
    panel = _monthly(ok=np.ones(3), bad_series=values)
    with pytest.raises(PanelError, match=f"column 'bad_series' has dtype {dtype}"):
        check_panel(panel)


@pytest.mark.parametrize(
    ("freq", "expected"),
    [
        ("M", 12),
        ("ME", 12),
        ("Q", 4),
        ("Q-DEC", 4),
        ("Q-MAR", 4),
        ("Y", 1),
        ("Y-DEC", 1),
        ("A", 1),
        ("A-DEC", 1),
        ("y-jun", 1),
        (MonthEnd(), 12),
        (QuarterEnd(startingMonth=3), 4),
        (YearEnd(), 1),
    ],
)
def test_periods_per_year(freq: object, expected: int) -> None:
    assert periods_per_year(freq) == expected


@pytest.mark.parametrize("freq", ["M", "Q", "Y"])
def test_periods_per_year_accepts_a_panel_freq(freq: str) -> None:
    index = pd.period_range("2020", periods=2, freq=freq)
    assert periods_per_year(index.freq) == {"M": 12, "Q": 4, "Y": 1}[freq]
    assert periods_per_year(index.freqstr) == periods_per_year(index.freq)


@pytest.mark.parametrize("freq", ["D", "W-SUN", "2M", "", Week(), MonthEnd(2), 12])
def test_periods_per_year_rejects_other_frequencies(freq: object) -> None:
    with pytest.raises(PanelError, match="unsupported frequency"):
        periods_per_year(freq)


def test_freq_code() -> None:
    assert [freq_code(f) for f in ("M", "Q-DEC", "Y-DEC", "A-DEC")] == ["M", "Q", "Y", "Y"]
