"""The panel contract: what every detector may assume about its input.

A panel is a DataFrame with a PeriodIndex of one supported frequency, sorted, unique and
complete (gaps are NaN rows, never missing index entries), holding one float column per
series id. Checking it once at the boundary lets transforms shift by position safely.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, TypeAlias

from detectors.lazy import lazy

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    from pandas.tseries.offsets import BaseOffset
else:
    np = lazy("numpy")
    pd = lazy("pandas")

FreqCode = Literal["M", "Q", "Y"]
FreqLike: TypeAlias = "str | BaseOffset"

_PERIODS_PER_YEAR: dict[FreqCode, int] = {"M": 12, "Q": 4, "Y": 1}
_PREFIXES: dict[str, FreqCode] = {
    "M": "M",
    "ME": "M",
    "Q": "Q",
    "QE": "Q",
    "Y": "Y",
    "YE": "Y",
    "A": "Y",
}


class PanelError(ValueError):
    """The input does not honour the panel contract."""


def freq_code(freq: FreqLike) -> FreqCode:
    """Reduce a pandas frequency ("M", "Q-DEC", "Y-DEC", "A-DEC", an offset) to M, Q or Y.

    Fiscal anchors (Q-MAR, Y-JUN) keep their base frequency: only the count per year matters.
    """
    if not isinstance(freq, str):
        from pandas.tseries.offsets import BaseOffset, MonthEnd, QuarterEnd, YearEnd
    if not isinstance(freq, str) and isinstance(freq, BaseOffset):
        if freq.n == 1 and isinstance(freq, MonthEnd):
            return "M"
        if freq.n == 1 and isinstance(freq, QuarterEnd):
            return "Q"
        if freq.n == 1 and isinstance(freq, YearEnd):
            return "Y"
        raise PanelError(f"unsupported frequency {freq!r}; expected monthly, quarterly or annual")
    if isinstance(freq, str):
        prefix = freq.strip().upper().split("-", 1)[0]
        if prefix in _PREFIXES:
            return _PREFIXES[prefix]
    raise PanelError(f"unsupported frequency {freq!r}; expected monthly, quarterly or annual")


def periods_per_year(freq: FreqLike) -> int:
    """How many periods make a year: the lag of a same-period-last-year comparison."""
    return _PERIODS_PER_YEAR[freq_code(freq)]


def check_panel(panel: pd.DataFrame) -> None:
    """Raise PanelError naming the first broken part of the panel contract."""
    if not isinstance(panel, pd.DataFrame):
        raise PanelError(f"panel must be a pandas DataFrame, got {type(panel).__name__}")
    _check_index(panel.index)
    _check_columns(panel)


def _check_index(index: pd.Index) -> None:
    if not isinstance(index, pd.PeriodIndex):
        raise PanelError(f"panel index must be a pandas PeriodIndex, got {type(index).__name__}")
    freq_code(index.freq)
    if index.hasnans:
        raise PanelError("panel index contains NaT; every row must be a period")
    if not index.is_monotonic_increasing:
        raise PanelError("panel index is not sorted in increasing period order")
    if not index.is_unique:
        dupes = sorted({str(p) for p in index[index.duplicated()]})
        raise PanelError(f"panel index has duplicate periods: {', '.join(dupes)}")
    if len(index) > 1:
        expected = pd.period_range(index[0], index[-1], freq=index.freq)
        if len(expected) != len(index):
            missing = expected.difference(index)
            raise PanelError(
                f"panel index has gaps (fill them with NaN rows): missing {missing[0]}"
                + (f" and {len(missing) - 1} more" if len(missing) > 1 else "")
            )




def _check_columns(panel: pd.DataFrame) -> None:
    columns = panel.columns
    # A string-dtype index holds only strings: skip the per-name check (100,000 names cost ~1 s).
    if not pd.api.types.is_string_dtype(columns.dtype) or columns.inferred_type not in ("string", "empty"):
        for name in columns:
            if not isinstance(name, str):
                raise PanelError(f"panel column names must be str series ids, got {name!r}")
    if not columns.is_unique:
        dupes = sorted(set(panel.columns[panel.columns.duplicated()]))
        raise PanelError(f"panel has duplicate columns: {', '.join(map(repr, dupes))}")
    dtypes = panel.dtypes
    if len(dtypes) and all(isinstance(d, np.dtype) and d == "float64" for d in dtypes.unique()):
        return
    for name, dtype in dtypes.items():
        if not (isinstance(dtype, np.dtype) and dtype.kind == "f"):
            raise PanelError(
                f"panel column {name!r} has dtype {dtype}; panels hold float columns "
                "(cast with astype(float), missing values as NaN)"
            )
