"""The vintage history as packed rows, the current values kept in memory, and what ingest
does with frames in any order, from any source, written by any process."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from monitor.alerts.lifecycle import Alert, Status
from monitor.store import Revision, Store, alerts, observations, outbox

V1 = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
V2 = V1 + timedelta(days=30)


def frame(rows: list[tuple[str, str, float]], categorical: bool = False, **labels: str) -> pd.DataFrame:
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


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'tw.db'}"


def test_one_row_per_series_and_fetch_holds_its_values(url: str) -> None:
    store = Store(url)
    store.ingest(frame([("a", "2015-01", 1.0), ("a", "2015-02", 2.0), ("a", "2015-03", 3.0),
                        ("b", "2015-01", 5.0), ("b", "2015-03", 7.0)]), V1, "M")
    with store.engine.connect() as conn:
        c = observations.c
        rows = conn.execute(sa.select(c.series, c.first_period, c.cells, c.period_ordinals, c.period_values)
                            .order_by(c.id)).all()
    january = pd.Period("2015-01", "M").ordinal
    assert [(r[0], r[1], r[2]) for r in rows] == [("a", january, 3), ("b", january, 2)]
    assert rows[0][3] is None  # consecutive periods need no list of them
    assert np.frombuffer(rows[1][3], "<i4").tolist() == [january, january + 2]
    assert np.frombuffer(rows[0][4], "<f8").tolist() == [1.0, 2.0, 3.0]
    assert store.vintages("b")[["period", "value"]].to_dict("list") == {
        "period": ["2015-01", "2015-03"], "value": [5.0, 7.0]}
    store.close()


def test_a_revision_reports_what_it_was_and_keeps_both_vintages(url: str) -> None:
    store = Store(url)
    store.ingest(frame([("a", "2015-02", 1.5), ("a", "2015-03", -3.1)]), V1, "M")
    result = store.ingest(frame([("a", "2015-02", 1.5), ("a", "2015-03", -4.0), ("a", "2015-04", 2.0)]),
                          V2, "M")
    assert (result.changed, result.new_observations, result.revisions) == (frozenset({"a"}), 2, 1)
    assert result.revised == (Revision("a", "2015-03", -3.1, -4.0),)
    history = store.vintages("a")
    assert history[["period", "value"]].values.tolist() == [["2015-02", 1.5], ["2015-03", -3.1],
                                                             ["2015-03", -4.0], ["2015-04", 2.0]]
    store.close()


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


@pytest.mark.parametrize("categorical", [False, True])
def test_rows_in_any_order_keep_the_last_of_duplicates(url: str, categorical: bool) -> None:
    store = Store(url)
    rows = [("b", "2015-03", 3.0), ("a", "2015-02", 2.0), ("b", "2015-01", 1.0), ("a", "2015-01", 1.0),
            ("b", "2015-03", 30.0), ("a", "2015-03", np.nan)]
    result = store.ingest(frame(rows, categorical), V1, "M")
    assert (result.changed, result.new_observations) == (frozenset({"a", "b"}), 4)
    assert store.panel(["a", "b"], "M").fillna(-1.0).to_dict("list") == {"a": [1.0, 2.0, -1.0],
                                                                         "b": [1.0, -1.0, 30.0]}
    assert len(store.panel(["a"], "M")) == 2  # a missing value is not a value
    store.close()


def test_a_series_keeps_its_frequency(url: str) -> None:
    store = Store(url)
    store.ingest(frame([("a", "2015-01", 1.0)]), V1, "M")
    quarterly = pd.DataFrame({"series": ["a"], "period": pd.array(["2015Q2"], dtype="period[Q]"),
                              "value": [2.0], "source": ["test"]})
    result = store.ingest(quarterly, V2, "Q")
    assert result.changed == frozenset()
    assert result.conflicts == ("series a is stored with frequency 'M'; refusing values of frequency 'Q'",)
    store.close()


def test_the_snapshot_of_some_series(url: str) -> None:
    store = Store(url)
    store.ingest(frame([("a", "2014-02", 4.0), ("a", "2015-02", 5.0), ("b", "2015-01", 1.0)]), V1, "M")
    snapshot = store.latest_snapshot(["a", "unknown"])
    assert snapshot[["series", "frequency", "period", "value", "year_ago_period", "year_ago_value"]] \
        .values.tolist() == [["a", "M", "2015-02", 5.0, "2014-02", 4.0]]
    assert store.newest_period("test") == "2015-02" and store.newest_period("other") is None
    store.close()


def test_the_earlier_row_per_value_layout_is_converted(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE series (id VARCHAR PRIMARY KEY, frequency VARCHAR(1) NOT NULL, "
                             "labels TEXT NOT NULL, first_seen DATETIME NOT NULL)")
        conn.exec_driver_sql("CREATE TABLE observations (series VARCHAR, period VARCHAR, vintage DATETIME, "
                             "value FLOAT NOT NULL, PRIMARY KEY (series, period, vintage))")
        conn.exec_driver_sql("CREATE TABLE current (series VARCHAR, period VARCHAR, value FLOAT NOT NULL, "
                             "vintage DATETIME NOT NULL, PRIMARY KEY (series, period))")
        conn.exec_driver_sql("INSERT INTO series VALUES ('a', 'M', '{\"source\": \"test\"}', "
                             "'2026-03-01 06:00:00.000000')")
        for period, vintage, value in (("2015-01", "2026-03-01 06:00:00.000000", 1.0),
                                       ("2015-02", "2026-03-01 06:00:00.000000", 2.0),
                                       ("2015-02", "2026-03-31 06:00:00.000000", 2.5)):
            conn.exec_driver_sql("INSERT INTO observations VALUES ('a', ?, ?, ?)", (period, vintage, value))
    engine.dispose()
    store = Store(url)
    assert store.vintages("a")[["period", "value"]].values.tolist() == [["2015-01", 1.0], ["2015-02", 2.0],
                                                                        ["2015-02", 2.5]]
    assert store.panel(["a"], "M")["a"].tolist() == [1.0, 2.5]
    assert store.series_history("a").attrs["vintage"] == V2
    assert not sa.inspect(store.engine).has_table("current")
    assert store.ingest(frame([("a", "2015-02", 2.5)]), V2, "M").changed == frozenset()
    store.close()


def _alert(fingerprint: str, status: Status, period: str) -> Alert:
    return Alert(fingerprint=fingerprint, rule="r", series=fingerprint, labels={"series": fingerprint},
                 severity="warning", status=status, episode=1, period=period, since_period=period,
                 value=1.0, reference=float("nan"), summary=f"{fingerprint} {period}", active_at=V1,
                 fired_at=V1, resolved_at=None, updated_at=V1)


def test_transitions_are_written_in_batches(url: str) -> None:
    store = Store(url)
    store.commit_transitions([_alert("x", Status.FIRING, "2015-01"), _alert("y", Status.PENDING, "2015-01")],
                             [], [(_alert("x", Status.FIRING, "2015-01"), {"n": 1})], V1)
    store.commit_transitions([_alert("x", Status.RESOLVED, "2015-02"), _alert("z", Status.FIRING, "2015-02")],
                             ["y"], [(_alert("z", Status.FIRING, "2015-02"), {"n": 2})], V2)
    with store.engine.connect() as conn:
        a = alerts.c
        rows = conn.execute(sa.select(a.fingerprint, a.status, a.period, a.reference)
                            .order_by(a.fingerprint)).all()
        queued = conn.execute(sa.select(outbox.c.fingerprint, outbox.c.payload).order_by(outbox.c.id)).all()
    assert [tuple(r) for r in rows] == [("x", "resolved", "2015-02", None), ("z", "firing", "2015-02", None)]
    assert [tuple(r) for r in queued] == [("x", '{"n": 1}'), ("z", '{"n": 2}')]
    assert set(store.load_alerts()) == {"x", "z"}
    store.close()


def test_deliveries_recorded_together(url: str) -> None:
    store = Store(url)
    with store.engine.begin() as conn:
        for fp in ("f", "g"):
            conn.execute(outbox.insert().values(fingerprint=fp, episode=1, status="firing", payload="{}",
                                                created_at=V1))
    first, second = store.pending_outbox()
    store.record_delivery(first.id, "slack", None, "HTTP 500")  # failed once before
    store.record_deliveries([(first.id, "slack", V2, None), (second.id, "slack", V2, None)])
    assert [e.delivered_to for e in store.pending_outbox()] == [frozenset({"slack"})] * 2
    with store.engine.connect() as conn:
        attempts = conn.execute(sa.text("SELECT outbox_id, attempts, outcome, last_error FROM deliveries "
                                        "ORDER BY outbox_id")).all()
    assert [tuple(a) for a in attempts] == [(first.id, 2, "sent", None), (second.id, 1, "sent", None)]
    store.mark_done_many([first.id, second.id], V2)
    assert store.pending_outbox() == [] and store.outbox_depth() == (0, None)
    store.close()
