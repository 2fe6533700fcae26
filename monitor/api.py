"""The JSON API under /api/v1: alerts and series with their history, shaped for Grafana's
JSON/Infinity data sources (flat lists of objects, ISO 8601 times). Periods in queries are
read by the one period reader (monitor.periods), as the CLI and the file sources read them."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

import pandas as pd

from monitor.alerts.book import AlertBook
from monitor.alerts.lifecycle import Alert, Status
from monitor.alerts.notification import drivers_json
from monitor.config import Notify
from monitor.matchers import LABEL_NAME, Matcher, Op
from monitor.notify.marks import Marks, muted
from monitor.periods import pandas_freq, parse_period, read_period
from monitor.store import Store
from monitor.store.silences import SilenceError, SilenceStore


def _number(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def _period(text: str, frequency: str) -> pd.Period:
    """A stored period (always a canonical spelling) as a pandas Period."""
    period = parse_period(text, frequency)
    return period if period is not None else pd.Period(text, freq=pandas_freq(frequency))


def _period_start(period: str, frequency: str) -> str:
    return _period(period, frequency).start_time.strftime("%Y-%m-%dT00:00:00Z")


class QueryError(ValueError):
    """A query parameter that cannot be used; the message names it."""


def _bounds(query: Mapping[str, str], frequency: str) -> tuple[pd.Period | None, pd.Period | None]:
    """`from` and `to` in any spelling `tradewatch backtest --from` takes, in the series'
    frequency: `to=2016` is 2016-12 for a monthly series, `from=2016` is 2016-01."""
    bounds: list[pd.Period | None] = []
    for name, how in (("from", "start"), ("to", "end")):
        text = query.get(name, "").strip()
        if not text:
            bounds.append(None)
            continue
        try:
            bounds.append(read_period(text).asfreq(pandas_freq(frequency), how=how))
        except ValueError as exc:
            raise QueryError(f"query parameter {name}: {exc}") from None
    first, last = bounds
    if first is not None and last is not None and first > last:
        raise QueryError(f"query parameter from={query['from'].strip()} is after to={query['to'].strip()}")
    return first, last


def _matcher_text(matcher: Any) -> str:
    if isinstance(matcher, str):
        return matcher
    if isinstance(matcher, dict) and "name" in matcher and "value" in matcher:
        equal = matcher.get("isEqual", True)
        op: Op = ("=~" if equal else "!~") if matcher.get("isRegex") else ("=" if equal else "!=")
        name = str(matcher["name"])
        if LABEL_NAME.fullmatch(name) is None:
            raise ValueError(f"invalid label name {name!r} in matcher {matcher!r}")
        return str(Matcher(name, op, str(matcher["value"])))  # quoted as needed, parsed back exactly
    raise ValueError(f"invalid matcher {matcher!r}")


def _parse_time(value: Any, default: datetime | None) -> datetime:
    if value is None:
        if default is None:
            raise ValueError("endsAt is required")
        return default
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def alert_json(alert: Alert, marks: Marks) -> dict[str, Any]:
    """An alert as `tradewatch alerts --format json` has it: `muted` says why it is not
    notified now ("silenced", "inhibited", "folded" or ""); a parent along its rule's
    hierarchy carries the contributors it fired with, a child its `parent`."""
    return {
        "fingerprint": alert.fingerprint, "rule": alert.rule, "series": alert.series,
        "labels": dict(alert.labels), "status": alert.status.value, "muted": muted(marks.mark(alert)),
        "severity": alert.severity,
        "period": alert.period, "since": alert.since_period, "value": _number(alert.value),
        "threshold": _number(alert.reference), "summary": alert.summary,
        "active_at": alert.active_at.isoformat(),
        "fired_at": alert.fired_at.isoformat() if alert.fired_at else None,
        "resolved_at": alert.resolved_at.isoformat() if alert.resolved_at else None,
        **({} if alert.drivers is None else drivers_json(alert.drivers)),
        **({} if alert.parent is None else {"parent": alert.parent}),
    }


def _with_times(row: dict[str, Any], frequency: str | None) -> dict[str, Any]:
    """The episode's first and newest flagged periods as times (their starts), so that Grafana
    can draw it as a region over the series' history, whose axis is the reference period."""
    for field, period in (("since_time", row["since"]), ("period_time", row["period"])):
        row[field] = _period_start(str(period), frequency) if period and frequency else None
    return row


class Api:
    """Views of the store and the alert book, and silences; one method per route. The HTTP
    layer authorizes state changes before calling the methods that make them."""

    def __init__(self, store: Store, book: AlertBook, clock: Callable[[], datetime],
                 notify: Callable[[], Notify] = Notify) -> None:
        self._store = store
        self._book = book
        self._silences = SilenceStore(store)
        self._clock = clock
        self._notify = notify  # the running config's routes and inhibit rules, for `muted`

    def silences(self, query: Mapping[str, str]) -> tuple[int, Any]:
        now = self._clock()
        return 200, {"status": "success", "data": [s.to_json(now) for s in self._silences.all()]}

    def create_silence(self, body: Any) -> tuple[int, Any]:
        """Alertmanager's v2 shape: matchers (strings "name=value" or {name, value, isRegex,
        isEqual}), startsAt, endsAt, createdBy, comment."""
        now = self._clock()
        if not isinstance(body, dict):
            return 400, {"status": "error", "error": "send a JSON object"}
        try:
            matchers = [_matcher_text(m) for m in body.get("matchers") or []]
            starts = _parse_time(body.get("startsAt"), now)
            ends = _parse_time(body.get("endsAt"), None)
            silence = self._silences.add(matchers, starts, ends, str(body.get("createdBy", "")),
                                         str(body.get("comment", "")), now)
        except (SilenceError, ValueError, TypeError) as exc:
            return 400, {"status": "error", "error": str(exc)}
        return 200, {"status": "success", "data": {"silenceID": silence.id}}

    def expire_silence(self, silence_id: str) -> tuple[int, Any]:
        try:
            silence = self._silences.expire(unquote(silence_id), self._clock())
        except SilenceError as exc:
            code = 404 if "no silence" in str(exc) else 400
            return code, {"status": "error", "error": str(exc)}
        return 200, {"status": "success", "data": silence.to_json(self._clock())}

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
        alerts = self._book.alerts(statuses)
        wanted_series = query.get("series")
        if wanted_series:
            alerts = [a for a in alerts if a.series == wanted_series]
        ids = sorted({a.series for a in alerts})
        frequencies = {i: info.frequency for i, info in self._store.series(ids).items()} if ids else {}
        now = self._clock()
        marks = Marks.of(self._notify(), self._silences.active(now), self._book.alerts([Status.FIRING]), now)
        return 200, {"status": "success", "data": [
            _with_times(alert_json(a, marks), frequencies.get(a.series)) for a in alerts]}

    def outbox(self, query: Mapping[str, str]) -> tuple[int, Any]:
        """Undelivered notifications: how many, the oldest, and the deliveries a receiver
        refused for good (parked until a config reload), with the reason."""
        depth, oldest = self._store.outbox_depth()
        parked = [{"outboxId": p.outbox_id, "fingerprint": p.fingerprint, "episode": p.episode,
                   "status": p.status, "receiver": p.receiver, "reason": p.reason, "attempts": p.attempts,
                   "createdAt": p.created_at.isoformat()} for p in self._store.parked_deliveries()]
        return 200, {"status": "success", "data": {
            "pending": depth, "oldestCreatedAt": oldest.isoformat() if oldest else None, "parked": parked}}

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
        """Every period of a series, oldest first; `from` and `to` (inclusive) narrow it."""
        series_id = unquote(series_id)
        info = self._store.series([series_id]).get(series_id)
        if info is None:
            return 404, {"status": "error", "error": f"unknown series {series_id!r}"}
        try:
            first, last = _bounds(query, info.frequency)
        except QueryError as exc:
            return 400, {"status": "error", "error": str(exc)}
        history = self._store.vintages(series_id)
        points: list[dict[str, Any]] = []
        for period, group in history.groupby("period", sort=True):
            at = _period(str(period), info.frequency)
            if (first is not None and at < first) or (last is not None and at > last):
                continue
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
