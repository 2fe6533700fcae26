"""Fetch times and long frames shared by the store's tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd

V1 = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
V2 = V1 + timedelta(days=30)


def long_frame(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    """Monthly rows of Russian series, flow taken from the id."""
    return pd.DataFrame({
        "series": [r[0] for r in rows],
        "period": pd.array([r[1] for r in rows], dtype="period[M]"),
        "value": [r[2] for r in rows],
        "reporter": ["RUS"] * len(rows),
        "flow": ["import" if "import" in r[0] else "export" for r in rows],
        "source": ["test"] * len(rows),
    })


def frame(rows: list[tuple[str, str, float]], categorical: bool = False, **labels: str) -> pd.DataFrame:
    """Monthly rows with a reporter and a source, and any further labels given."""
    series = [r[0] for r in rows]
    out = pd.DataFrame({
        "series": pd.Categorical(series) if categorical else series,
        "period": pd.array([r[1] for r in rows], dtype="period[M]"),
        "value": [r[2] for r in rows],
        "reporter": ["RUS"] * len(rows),
        "source": ["test"] * len(rows),
    })
    for key, value in labels.items():
        out[key] = value
    return out
