"""Ingest: what is new, what is revised, what is refused, whatever the order of the rows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC

import numpy as np
import pandas as pd
import pytest

from monitor.store import Revision, Store
from tests.monitor.store.support import V1, V2, frame, long_frame


@pytest.fixture
def store(store_url: Callable[..., str]) -> Store:
    return Store(store_url())


def test_ingest_reports_changed_series_and_is_idempotent(store: Store) -> None:
    rows = long_frame([("a/import", "2015-01", 1.0), ("a/import", "2015-02", 2.0),
                       ("b/export", "2015-01", 5.0)])
    first = store.ingest(rows, V1, "M")
    assert first.changed == {"a/import", "b/export"}
    assert (first.new_observations, first.revisions) == (3, 0)
    again = store.ingest(rows, V2, "M")
    assert again.changed == frozenset() and again.new_observations == 0


def test_a_new_month_changes_only_its_series(store: Store) -> None:
    store.ingest(long_frame([("a/import", "2015-01", 1.0), ("b/export", "2015-01", 5.0)]), V1, "M")
    result = store.ingest(long_frame([("a/import", "2015-01", 1.0), ("a/import", "2015-02", 1.5),
                                      ("b/export", "2015-01", 5.0)]), V2, "M")
    assert result.changed == {"a/import"} and result.new_observations == 1


def test_revision_keeps_the_old_vintage(store: Store) -> None:
    store.ingest(long_frame([("a/import", "2015-03", -3.1)]), V1, "M")
    result = store.ingest(long_frame([("a/import", "2015-03", -4.0)]), V2, "M")
    assert result.changed == {"a/import"} and result.revisions == 1
    history = store.vintages("a/import")
    assert history["value"].tolist() == [-3.1, -4.0]
    assert [pd.Timestamp(v).to_pydatetime().replace(tzinfo=UTC) for v in history["vintage"]] == [V1, V2]
    assert store.panel(["a/import"], "M").loc[pd.Period("2015-03", "M"), "a/import"] == -4.0


def test_a_frame_prepared_beforehand_ingests_as_the_frame_itself(
    store: Store, store_url: Callable[..., str]
) -> None:
    """`prepare` (done on the fetch thread) reads no state: ingesting its result is ingesting
    the frame, revisions and new series included."""
    plain = Store(store_url("plain"))
    first = long_frame([("a/import", "2015-01", 1.0), ("b/export", "2015-01", 5.0)])
    second = long_frame([("a/import", "2015-01", 1.5), ("a/import", "2015-02", 2.0),
                         ("c/import", "2015-02", 7.0), ("b/export", "2015-01", 5.0)])
    for rows, vintage in ((first, V1), (second, V2)):
        prepared = Store.prepare(rows, "M")
        assert store.ingest(rows, vintage, "M", prepared) == plain.ingest(rows, vintage, "M")
    ids = ["a/import", "b/export", "c/import"]
    pd.testing.assert_frame_equal(store.panel(ids, "M"), plain.panel(ids, "M"))
    assert store.vintages("a/import").equals(plain.vintages("a/import"))
    plain.close()


def test_a_revision_reports_what_it_was_and_keeps_both_vintages(store: Store) -> None:
    store.ingest(frame([("a", "2015-02", 1.5), ("a", "2015-03", -3.1)]), V1, "M")
    result = store.ingest(frame([("a", "2015-02", 1.5), ("a", "2015-03", -4.0), ("a", "2015-04", 2.0)]),
                          V2, "M")
    assert (result.changed, result.new_observations, result.revisions) == (frozenset({"a"}), 2, 1)
    assert result.revised == (Revision("a", "2015-03", -3.1, -4.0),)
    history = store.vintages("a")
    assert history[["period", "value"]].values.tolist() == [["2015-02", 1.5], ["2015-03", -3.1],
                                                             ["2015-03", -4.0], ["2015-04", 2.0]]
    store.close()


@pytest.mark.parametrize("categorical", [False, True])
def test_rows_in_any_order_keep_the_last_of_duplicates(store: Store, categorical: bool) -> None:
    rows = [("b", "2015-03", 3.0), ("a", "2015-02", 2.0), ("b", "2015-01", 1.0), ("a", "2015-01", 1.0),
            ("b", "2015-03", 30.0), ("a", "2015-03", np.nan)]
    result = store.ingest(frame(rows, categorical), V1, "M")
    assert (result.changed, result.new_observations) == (frozenset({"a", "b"}), 4)
    assert store.panel(["a", "b"], "M").fillna(-1.0).to_dict("list") == {"a": [1.0, 2.0, -1.0],
                                                                         "b": [1.0, -1.0, 30.0]}
    assert len(store.panel(["a"], "M")) == 2  # a missing value is not a value
    store.close()


def test_a_series_keeps_its_frequency(store: Store) -> None:
    store.ingest(frame([("a", "2015-01", 1.0)]), V1, "M")
    quarterly = pd.DataFrame({"series": ["a"], "period": pd.array(["2015Q2"], dtype="period[Q]"),
                              "value": [2.0], "source": ["test"]})
    result = store.ingest(quarterly, V2, "Q")
    assert result.changed == frozenset()
    assert result.conflicts == ("series a is stored with frequency 'M'; refusing values of frequency 'Q'",)
    store.close()
