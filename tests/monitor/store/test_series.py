"""Reading series back: panels, labels, each series' newest period."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from monitor.store import Store
from tests.monitor.store.support import V1, frame, long_frame


@pytest.fixture
def store(store_url: Callable[..., str]) -> Store:
    return Store(store_url())


def test_panel_is_sorted_full_and_float_with_gaps_as_nan(store: Store) -> None:
    store.ingest(long_frame([("b/export", "2015-01", 5.0), ("a/import", "2015-04", 4.0),
                             ("a/import", "2015-01", 1.0)]), V1, "M")
    panel = store.panel(["b/export", "a/import"], "M")
    assert list(panel.columns) == ["a/import", "b/export"]
    assert [str(p) for p in panel.index] == ["2015-01", "2015-02", "2015-03", "2015-04"]
    assert panel["a/import"].tolist()[0] == 1.0 and np.isnan(panel["a/import"].tolist()[1])
    assert np.isnan(panel.loc[pd.Period("2015-04", "M"), "b/export"])
    assert all(dtype == np.float64 for dtype in panel.dtypes)


def test_series_labels_and_latest_values(store: Store) -> None:
    store.ingest(long_frame([("a/import", "2015-01", 1.0), ("a/import", "2015-02", 2.0)]), V1, "M")
    info = store.series()["a/import"]
    assert info.frequency == "M"
    assert dict(info.labels) == {"reporter": "RUS", "flow": "import", "source": "test"}
    snapshot = store.latest_snapshot()
    assert list(zip(snapshot["series"], snapshot["period"], snapshot["value"], strict=True)) == [
        ("a/import", "2015-02", 2.0)]


def test_the_snapshot_of_some_series(store: Store) -> None:
    store.ingest(frame([("a", "2014-02", 4.0), ("a", "2015-02", 5.0), ("b", "2015-01", 1.0)]), V1, "M")
    snapshot = store.latest_snapshot(["a", "unknown"])
    assert snapshot[["series", "frequency", "period", "value", "year_ago_period", "year_ago_value"]] \
        .values.tolist() == [["a", "M", "2015-02", 5.0, "2014-02", 4.0]]
    assert store.newest_period("test") == "2015-02" and store.newest_period("other") is None
    store.close()
