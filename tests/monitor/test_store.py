from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from monitor.store import Store

V1 = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
V2 = V1 + timedelta(days=30)


def long_frame(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame({
        "series": [r[0] for r in rows],
        "period": pd.array([r[1] for r in rows], dtype="period[M]"),
        "value": [r[2] for r in rows],
        "reporter": ["RUS"] * len(rows),
        "flow": ["import" if "import" in r[0] else "export" for r in rows],
        "source": ["test"] * len(rows),
    })


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(f"sqlite:///{tmp_path / 'state' / 'tw.db'}")


def test_ingest_reports_changed_series_and_is_idempotent(store: Store) -> None:
    frame = long_frame([("a/import", "2015-01", 1.0), ("a/import", "2015-02", 2.0),
                        ("b/export", "2015-01", 5.0)])
    first = store.ingest(frame, V1, "M")
    assert first.changed == {"a/import", "b/export"}
    assert (first.new_observations, first.revisions) == (3, 0)
    again = store.ingest(frame, V2, "M")
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


def test_a_frame_prepared_beforehand_ingests_as_the_frame_itself(store: Store, tmp_path: Path) -> None:
    """`prepare` (done on the fetch thread) reads no state: ingesting its result is ingesting
    the frame, revisions and new series included."""
    plain = Store(f"sqlite:///{tmp_path / 'plain' / 'tw.db'}")
    first = long_frame([("a/import", "2015-01", 1.0), ("b/export", "2015-01", 5.0)])
    second = long_frame([("a/import", "2015-01", 1.5), ("a/import", "2015-02", 2.0),
                         ("c/import", "2015-02", 7.0), ("b/export", "2015-01", 5.0)])
    for frame, vintage in ((first, V1), (second, V2)):
        prepared = Store.prepare(frame, "M")
        assert store.ingest(frame, vintage, "M", prepared) == plain.ingest(frame, vintage, "M")
    ids = ["a/import", "b/export", "c/import"]
    pd.testing.assert_frame_equal(store.panel(ids, "M"), plain.panel(ids, "M"))
    assert store.vintages("a/import").equals(plain.vintages("a/import"))
    plain.close()


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
    assert store.latest_values() == [("a/import", "2015-02", 2.0)]


def test_an_outbox_row_is_unique_per_alert_episode_and_status(store: Store) -> None:
    from monitor.store import outbox

    row = {"fingerprint": "f", "episode": 1, "status": "firing", "payload": "{}", "created_at": V1}
    with store.engine.begin() as conn:
        conn.execute(outbox.insert().values(**row))
    with pytest.raises(sa.exc.IntegrityError), store.engine.begin() as conn:
        conn.execute(outbox.insert().values(**row))


def test_deliveries_are_recorded_per_receiver(store: Store) -> None:
    from monitor.store import outbox

    with store.engine.begin() as conn:
        conn.execute(outbox.insert().values(fingerprint="f", episode=1, status="firing",
                                            payload='{"rule": "r"}', created_at=V1))
    [entry] = store.pending_outbox()
    assert entry.payload == {"rule": "r"} and entry.delivered_to == frozenset()
    store.record_delivery(entry.id, "slack", None, "HTTP 500")
    store.record_delivery(entry.id, "console", V2, None)
    [entry] = store.pending_outbox()
    assert entry.delivered_to == {"console"}
    assert store.outbox_depth() == (1, V1)
    store.mark_done(entry.id, V2)
    assert store.pending_outbox() == [] and store.outbox_depth() == (0, None)


def test_row_binder_converts_like_bind_and_leaves_other_columns(store: Store) -> None:
    from monitor.observations import bind, row_binder
    from monitor.schema import alerts

    row = ("fp", "rule", "s", "{}", "warning", "firing", 1, "2026-01", "2026-01", 1.5, None, "text",
           V1, None, V1, V2, None)
    with store.engine.connect() as conn:
        converted = row_binder(conn, alerts)(row)
        expected = tuple(bind(conn, column, value) for column, value in zip(alerts.columns, row, strict=True))
    assert converted == expected
    assert converted[12] != V1 and converted[12] == converted[14]  # SQLite keeps datetimes as text


def test_delete_rows_removes_exactly_the_keys_given(store: Store) -> None:
    from monitor.observations import delete_rows, insert_rows, row_binder
    from monitor.schema import silences

    columns = [c.name for c in silences.columns]
    with store.engine.begin() as conn:
        to_driver = row_binder(conn, silences)
        rows = []
        for key in ("a", "b", "c"):
            row = {"id": key, "matchers": "[]", "starts_at": V1, "ends_at": V2, "created_by": "me",
                   "comment": "", "created_at": V1, "updated_at": V1}
            rows.append(to_driver(tuple(row[name] for name in columns)))
        insert_rows(conn, silences, columns, rows)
        delete_rows(conn, silences.c.id, ["a", "c", "missing"])
        left = conn.execute(sa.select(silences.c.id)).scalars().all()
    assert left == ["b"]
