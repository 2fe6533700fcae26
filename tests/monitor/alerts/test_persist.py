"""Alert rows and their outbox rows, written together in the store's transaction."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from monitor.alerts.lifecycle import Alert, Status
from monitor.alerts.notification import Notification
from monitor.alerts.persist import AlertRows, load_alerts
from monitor.store import Store
from monitor.store.schema import alerts, outbox

V1 = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
V2 = V1 + timedelta(days=30)


@pytest.fixture
def store(store_url: Callable[..., str]) -> Store:
    return Store(store_url())


def _alert(fingerprint: str, status: Status, period: str) -> Alert:
    return Alert(fingerprint=fingerprint, rule="r", series=fingerprint, labels={"series": fingerprint},
                 severity="warning", status=status, episode=1, period=period, since_period=period,
                 value=1.0, reference=float("nan"), summary=f"{fingerprint} {period}", active_at=V1,
                 fired_at=V1, resolved_at=None, updated_at=V1)


def test_transitions_are_written_in_batches(store: Store) -> None:
    persist = AlertRows(store)
    persist.commit([_alert("x", Status.FIRING, "2015-01"), _alert("y", Status.PENDING, "2015-01")],
                   [], [Notification.of(_alert("x", Status.FIRING, "2015-01"))], V1)
    persist.commit([_alert("x", Status.RESOLVED, "2015-02"), _alert("z", Status.FIRING, "2015-02")],
                   ["y"], [Notification.of(_alert("z", Status.FIRING, "2015-02"))], V2)
    with store.engine.connect() as conn:
        a = alerts.c
        rows = conn.execute(sa.select(a.fingerprint, a.status, a.period, a.reference)
                            .order_by(a.fingerprint)).all()
        queued = conn.execute(sa.select(outbox.c.fingerprint, outbox.c.payload).order_by(outbox.c.id)).all()
    assert [tuple(r) for r in rows] == [("x", "resolved", "2015-02", None), ("z", "firing", "2015-02", None)]
    assert [(fp, json.loads(payload)) for fp, payload in queued] == [
        ("x", Notification.of(_alert("x", Status.FIRING, "2015-01")).to_json()),
        ("z", Notification.of(_alert("z", Status.FIRING, "2015-02")).to_json())]
    assert set(load_alerts(store)) == {"x", "z"}
    store.close()


def test_an_alert_reads_back_as_it_was_written(store: Store) -> None:
    firing = _alert("x", Status.FIRING, "2015-01")
    AlertRows(store).commit([firing], [], [], V1)
    [loaded] = AlertRows(store).load().values()
    assert math.isnan(loaded.reference)  # NaN is stored as NULL
    assert replace(loaded, reference=0.0) == replace(firing, reference=0.0)
    store.close()


def test_alert_rows_and_their_outbox_rows_commit_or_fail_together(store: Store) -> None:
    """A notification that cannot be queued (it exists already) takes the alert changes of its
    transaction with it: a change is never stored without its notification."""
    rows = AlertRows(store)
    firing = _alert("x", Status.FIRING, "2015-01")
    rows.commit([firing], [], [Notification.of(firing)], V1)
    with pytest.raises(sa.exc.IntegrityError):
        rows.commit([_alert("x", Status.FIRING, "2015-02"), _alert("y", Status.FIRING, "2015-02")], [],
                    [Notification.of(firing)], V2)
    assert {fp: a.period for fp, a in load_alerts(store).items()} == {"x": "2015-01"}
    assert [e.payload for e in store.pending_outbox()] == [Notification.of(firing).to_json()]
    store.close()
