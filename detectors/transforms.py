"""Transforms: turn a panel of raw levels into the values a detector compares.

Each transform takes a panel and returns a new DataFrame with the same index and columns.
Percent changes shift by position, which is correct because a checked panel has every period
between its first and last row. A change from a missing or zero base is undefined, so it is
NaN rather than inf: a detector never sees an infinite value.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

import numpy as np
import pandas as pd

from detectors.panel import FreqLike, freq_code, periods_per_year

Transform = Callable[[pd.DataFrame], pd.DataFrame]


class UnknownTransformError(KeyError, ValueError):
    """A transform name that is not in TRANSFORMS (a lookup miss and a bad value at once)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def level(panel: pd.DataFrame) -> pd.DataFrame:
    """The raw values, as a new frame so callers never alias the input."""
    values = panel.to_numpy(dtype=float, copy=True)
    return pd.DataFrame(values, index=panel.index, columns=panel.columns)


def mom_pct(panel: pd.DataFrame) -> pd.DataFrame:
    """Percent change on the previous period (month, quarter or year, by the panel's freq)."""
    return _pct_change(panel, lag=1)


def yoy_pct(panel: pd.DataFrame) -> pd.DataFrame:
    """Percent change on the same period a year earlier; removes seasonality in trade data."""
    return _pct_change(panel, lag=periods_per_year(panel.index.freq))


def _pct_change(panel: pd.DataFrame, *, lag: int) -> pd.DataFrame:
    current = panel.to_numpy(dtype=float)
    base = np.full_like(current, np.nan)
    if lag < len(current):
        base[lag:] = current[:-lag]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        change = 100.0 * (current / base - 1.0)
    change[~np.isfinite(change) | (base == 0.0)] = np.nan
    return pd.DataFrame(change, index=panel.index, columns=panel.columns)


TRANSFORMS: Mapping[str, Transform] = MappingProxyType(
    {"level": level, "mom_pct": mom_pct, "yoy_pct": yoy_pct}
)
_PERCENT = frozenset({"mom_pct", "yoy_pct"})
_PERIOD_ON_PERIOD = {"M": "MoM", "Q": "QoQ", "Y": "YoY"}


def _known(name: str) -> str:
    if name not in TRANSFORMS:
        known = ", ".join(sorted(TRANSFORMS))
        raise UnknownTransformError(f"unknown transform {name!r}; known transforms: {known}")
    return name


def apply_transform(name: str, panel: pd.DataFrame) -> pd.DataFrame:
    """Look a transform up by its config name and apply it."""
    return TRANSFORMS[_known(name)](panel)


def is_percent_change(name: str) -> bool:
    """Whether values are percent changes (worded "fell 3.2%") rather than levels."""
    return _known(name) in _PERCENT


def transform_label(name: str, freq: FreqLike = "M") -> str:
    """Short label for sentences: "YoY", "MoM"/"QoQ" by frequency, "" for levels."""
    if _known(name) == "yoy_pct":
        return "YoY"
    if name == "mom_pct":
        return _PERIOD_ON_PERIOD[freq_code(freq)]
    return ""
