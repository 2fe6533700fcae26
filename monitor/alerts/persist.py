"""Alerts as rows of the store's `alerts` table and back, and the commit of a batch of
changes with the notifications they cause.

The alert rows and their outbox rows are written in one write transaction of the store, so
a notification exists exactly when the change that caused it does. Rows go in batches,
through the driver: a first evaluation of a large watch list changes tens of thousands.
What an alert said along its rule's hierarchy (a parent's contributors, a child's parent) goes
in `alert_drivers` in the same transaction, as it was computed when the alert was evaluated.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from types import MappingProxyType
from typing import Any

import sqlalchemy as sa

from monitor.alerts.lifecycle import Alert, Status
from monitor.alerts.notification import Notification, drivers_from_json, drivers_json
from monitor.store import Store
from monitor.store.outbox import OutboxRow, enqueue
from monitor.store.schema import alert_drivers, alerts
from monitor.store.sql import delete_rows, replace_rows, utc


def load_alerts(store: Store) -> dict[str, Alert]:
    """Every stored alert by fingerprint, with what it said along its rule's hierarchy."""
    with store.read() as conn:
        rows = conn.execute(sa.select(alerts)).mappings().all()
        drilled = conn.execute(sa.select(alert_drivers)).mappings().all()
    found = {r["fingerprint"]: alert_from_row(dict(r)) for r in rows}
    for d in drilled:
        alert = found.get(d["fingerprint"])
        if alert is not None and alert.episode == d["episode"]:
            found[alert.fingerprint] = replace(alert, parent=d["parent"], drivers=(
                None if d["drivers"] is None else drivers_from_json(json.loads(d["drivers"]))))
    return found


class AlertRows:
    """The alert rows of one store. Each alert's labels JSON is remembered: labels rarely
    change, and a cycle rewrites tens of thousands of alerts."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._labels_text: dict[str, tuple[Mapping[str, str], str]] = {}  # fingerprint -> labels, JSON
        self._drilled: set[str] = set()  # fingerprints with a row in alert_drivers

    def load(self) -> dict[str, Alert]:
        found = load_alerts(self._store)
        self._drilled = {fp for fp, a in found.items() if a.drivers is not None or a.parent is not None}
        return found

    def commit(
        self,
        upserts: Sequence[Alert],
        deletes: Sequence[str],
        notifications: Sequence[Notification],
        now: datetime,
    ) -> None:
        """Alert states and the notifications they cause, in one transaction."""
        latest = {alert.fingerprint: alert for alert in upserts}  # the last state wins
        drilled = [a for a in latest.values() if a.drivers is not None or a.parent is not None]
        # rows only for alerts along a hierarchy; the others' old rows (if any) removed
        kept = {a.fingerprint for a in drilled}
        stale = [fp for fp in [*deletes, *latest] if fp in self._drilled and fp not in kept]
        with self._store.write() as conn:
            replace_rows(conn, alerts, alerts.c.fingerprint, deletes, (self.row(a) for a in latest.values()))
            if stale:
                delete_rows(conn, alert_drivers.c.fingerprint, stale)
            if drilled:
                replace_rows(conn, alert_drivers, alert_drivers.c.fingerprint, (),
                             (drivers_row(a) for a in drilled))
            enqueue(conn, [OutboxRow(n.fingerprint, n.episode, n.status.value, n.to_json())
                           for n in notifications], now)
        for fp in deletes:
            self._labels_text.pop(fp, None)
        self._drilled.difference_update(stale)
        self._drilled.update(kept)

    def row(self, alert: Alert) -> tuple[Any, ...]:
        """An alert as a row of `alerts`, in column order."""
        known = self._labels_text.get(alert.fingerprint)
        if known is None or known[0] != alert.labels:
            known = self._labels_text[alert.fingerprint] = (
                alert.labels, json.dumps(dict(alert.labels), sort_keys=True))
        return (alert.fingerprint, alert.rule, alert.series, known[1], alert.severity, alert.status.value,
                alert.episode, alert.period, alert.since_period, _finite(alert.value),
                _finite(alert.reference), alert.summary, alert.active_at, alert.fired_at, alert.resolved_at,
                alert.updated_at, alert.event_period)


def drivers_row(alert: Alert) -> tuple[Any, ...]:
    """What an alert said along its rule's hierarchy, as a row of `alert_drivers`."""
    text = None if alert.drivers is None else json.dumps(drivers_json(alert.drivers), sort_keys=True)
    return (alert.fingerprint, alert.episode, alert.period, alert.parent, text)


def alert_from_row(row: Mapping[str, Any]) -> Alert:
    """An alert read back from a row of `alerts` (by column name)."""
    return Alert(
        fingerprint=row["fingerprint"], rule=row["rule"], series=row["series"],
        labels=MappingProxyType(json.loads(row["labels"])), severity=row["severity"],
        status=Status(row["status"]), episode=row["episode"], period=row["period"],
        since_period=row["since_period"],
        value=float("nan") if row["value"] is None else row["value"],
        reference=float("nan") if row["reference"] is None else row["reference"],
        summary=row["summary"], active_at=utc(row["active_at"]) or row["active_at"],
        fired_at=utc(row["fired_at"]), resolved_at=utc(row["resolved_at"]),
        updated_at=utc(row["updated_at"]) or row["updated_at"],
        event_period=row["event_period"],
    )


def _finite(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)
