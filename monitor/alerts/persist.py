"""Alerts as rows of the store's `alerts` table and back, and the commit of a batch of
changes with the notifications they cause.

The alert rows and their outbox rows are written in one write transaction of the store, so
a notification exists exactly when the change that caused it does. Rows go in batches,
through the driver: a first evaluation of a large watch list changes tens of thousands.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from types import MappingProxyType
from typing import Any

import sqlalchemy as sa

from monitor.alerts.lifecycle import Alert, Status
from monitor.alerts.notification import Notification
from monitor.store import Store
from monitor.store.outbox import OutboxRow, enqueue
from monitor.store.schema import alerts
from monitor.store.sql import replace_rows, utc


def load_alerts(store: Store) -> dict[str, Alert]:
    """Every stored alert by fingerprint."""
    with store.read() as conn:
        rows = conn.execute(sa.select(alerts)).mappings().all()
    return {r["fingerprint"]: alert_from_row(dict(r)) for r in rows}


class AlertRows:
    """The alert rows of one store. Each alert's labels JSON is remembered: labels rarely
    change, and a cycle rewrites tens of thousands of alerts."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._labels_text: dict[str, tuple[Mapping[str, str], str]] = {}  # fingerprint -> labels, JSON

    def load(self) -> dict[str, Alert]:
        return load_alerts(self._store)

    def commit(
        self,
        upserts: Sequence[Alert],
        deletes: Sequence[str],
        notifications: Sequence[Notification],
        now: datetime,
    ) -> None:
        """Alert states and the notifications they cause, in one transaction."""
        latest = {alert.fingerprint: alert for alert in upserts}  # the last state wins
        with self._store.write() as conn:
            replace_rows(conn, alerts, alerts.c.fingerprint, deletes, (self.row(a) for a in latest.values()))
            enqueue(conn, [OutboxRow(n.fingerprint, n.episode, n.status.value, n.to_json())
                           for n in notifications], now)
        for fp in deletes:
            self._labels_text.pop(fp, None)

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
