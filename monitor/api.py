"""The JSON API under /api/v1: alerts and series with their history, shaped for Grafana's
JSON/Infinity data sources (flat lists of objects, ISO 8601 times)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

import pandas as pd

from monitor.alerts.book import AlertBook
from monitor.alerts.lifecycle import Alert, Status
from monitor.periods import pandas_freq
from monitor.store import Store


def _number(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def _period_start(period: str, frequency: str) -> str:
    start = pd.Period(period, freq=pandas_freq(frequency)).start_time
    return start.strftime("%Y-%m-%dT00:00:00Z")


def alert_json(alert: Alert) -> dict[str, Any]:
    return {
        "fingerprint": alert.fingerprint, "rule": alert.rule, "series": alert.series,
        "labels": dict(alert.labels), "status": alert.status.value, "severity": alert.severity,
        "period": alert.period, "since": alert.since_period, "value": _number(alert.value),
        "threshold": _number(alert.reference), "summary": alert.summary,
        "active_at": alert.active_at.isoformat(),
        "fired_at": alert.fired_at.isoformat() if alert.fired_at else None,
        "resolved_at": alert.resolved_at.isoformat() if alert.resolved_at else None,
    }


class Api:
    """Read-only views of the store and the alert book; one method per route."""

    def __init__(self, store: Store, book: AlertBook) -> None:
        self._store = store
        self._book = book

    def alerts(self, query: Mapping[str, str]) -> tuple[int, Any]:
        wanted = query.get("status")
        statuses = None
        if wanted:
            try:
                statuses = [Status(s) for s in wanted.split(",")]
            except ValueError:
                return 400, {"status": "error", "error": f"unknown status {wanted!r}; "
                             "use pending, firing or resolved"}
        else:
            statuses = [Status.PENDING, Status.FIRING]
        return 200, {"status": "success", "data": [alert_json(a) for a in self._book.alerts(statuses)]}

    def series_list(self, query: Mapping[str, str]) -> tuple[int, Any]:
        infos = self._store.series()
        snapshot = self._store.latest_snapshot()
        rows = []
        for row in snapshot.itertuples(index=False):
            info = infos[str(row.series)]
            base = float(row.year_ago_value)
            yoy = 100.0 * (float(row.value) / base - 1.0) if math.isfinite(base) and base else None
            rows.append({
                "id": info.id, "labels": dict(info.labels), "frequency": info.frequency,
                "period": row.period, "time": _period_start(str(row.period), info.frequency),
                "value": _number(float(row.value)), "yoy_percent": _number(yoy),
                "vintage": row.vintage.isoformat(),
            })
        return 200, {"status": "success", "data": rows}

    def series_detail(self, series_id: str, query: Mapping[str, str]) -> tuple[int, Any]:
        series_id = unquote(series_id)
        info = self._store.series([series_id]).get(series_id)
        if info is None:
            return 404, {"status": "error", "error": f"unknown series {series_id!r}"}
        history = self._store.vintages(series_id)
        points: list[dict[str, Any]] = []
        for period, group in history.groupby("period", sort=True):
            ordered = group.sort_values("vintage")
            latest = ordered.iloc[-1]
            points.append({
                "period": period, "time": _period_start(str(period), info.frequency),
                "value": _number(float(latest["value"])),
                "vintage": pd.Timestamp(latest["vintage"]).tz_localize(None).isoformat() + "Z",
                "revisions": len(ordered) - 1,
                "first_value": _number(float(ordered.iloc[0]["value"])),
            })
        return 200, {"status": "success", "data": {
            "id": info.id, "labels": dict(info.labels), "frequency": info.frequency, "points": points}}
