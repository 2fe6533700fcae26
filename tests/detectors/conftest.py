"""Shared fixtures: small hand-made panels and the real Russia-China demo series."""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd
import pytest

DEMO_CSV = (
    Path(__file__).resolve().parents[2]
    / "monitor"
    / "demo"
    / "russia_china_monthly_2006_2021_russian_fcs.csv"
)

PanelFactory = Callable[..., pd.DataFrame]


def build_panel(freq: str, start: str, **columns: Sequence[float | None]) -> pd.DataFrame:
    """A panel starting at `start` with one float column per keyword (None becomes NaN)."""
    length = len(next(iter(columns.values())))
    index = pd.period_range(start, periods=length, freq=freq)
    data = {
        name: [float("nan") if v is None else float(v) for v in values]
        for name, values in columns.items()
    }
    return pd.DataFrame(data, index=index, dtype=float)


@pytest.fixture(scope="session")
def make_panel() -> PanelFactory:
    """build_panel(freq, start, **columns), as a fixture so test modules need no imports."""
    return build_panel


@pytest.fixture(scope="session")
def rc_rows() -> list[dict[str, str]]:
    """The demo CSV as plain rows, for expectations computed without pandas."""
    with DEMO_CSV.open(newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="session")
def _rc_panel() -> pd.DataFrame:
    frame = pd.read_csv(DEMO_CSV, dtype={"period": str})
    index = pd.PeriodIndex(frame.pop("period"), freq="M")
    return frame.set_index(index).astype(float)


@pytest.fixture
def rc_panel(_rc_panel: pd.DataFrame) -> pd.DataFrame:
    """A fresh copy per test, so a mutation in one test cannot leak into another."""
    return _rc_panel.copy(deep=True)
