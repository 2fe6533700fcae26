"""The current values kept in memory: rebuilt from the history, caught up with rows another
process wrote."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest

from monitor.store import Store
from tests.monitor.store.support import V1, V2, frame


@pytest.fixture
def url(store_url: Callable[..., str]) -> str:
    return store_url()


def test_a_reopened_store_rebuilds_the_current_values_from_the_history(url: str) -> None:
    store = Store(url)
    store.ingest(frame([("a", "2014-03", 10.0), ("a", "2015-01", 1.0), ("a", "2015-03", 3.0),
                        ("b", "2015-02", 5.0)]), V1, "M")
    store.ingest(frame([("a", "2015-03", 4.0), ("b", "2015-03", 6.0)]), V2, "M")
    before = (store.panel(["a", "b"], "M"), store.latest_snapshot(), store.series_history("a"))
    store.close()
    reopened = Store(url)
    panel, snapshot, history = reopened.panel(["a", "b"], "M"), reopened.latest_snapshot(), \
        reopened.series_history("a")
    pd.testing.assert_frame_equal(panel, before[0])
    pd.testing.assert_frame_equal(snapshot, before[1])
    pd.testing.assert_series_equal(history, before[2])
    assert history.to_dict() == {pd.Period("2014-03", "M"): 10.0, pd.Period("2015-01", "M"): 1.0,
                                 pd.Period("2015-03", "M"): 4.0}
    assert history.attrs["vintage"] == V2
    assert snapshot[["series", "period", "value", "year_ago_period"]].values.tolist() == [
        ["a", "2015-03", 4.0, "2014-03"], ["b", "2015-03", 6.0, "2014-03"]]
    assert snapshot["year_ago_value"].fillna(-1.0).tolist() == [10.0, -1.0]
    assert snapshot["vintage"].tolist() == [V2, V2]
    reopened.close()


def test_values_another_process_wrote_are_caught_up(url: str) -> None:
    mine, theirs = Store(url), Store(url)
    mine.ingest(frame([("a", "2015-01", 1.0)]), V1, "M")
    assert mine.panel(["a"], "M")["a"].tolist() == [1.0]
    theirs.ingest(frame([("a", "2015-02", 2.0), ("c", "2015-02", 9.0)]), V2, "M")
    assert mine.panel(["a", "c"], "M").fillna(-1.0).to_dict("list") == {"a": [1.0, 2.0], "c": [-1.0, 9.0]}
    assert sorted(mine.series()) == ["a", "c"]
    again = mine.ingest(frame([("a", "2015-02", 2.0), ("c", "2015-02", 9.0)]), V2, "M")
    assert again.changed == frozenset()  # compared with what the other process wrote
    mine.close()
    theirs.close()
