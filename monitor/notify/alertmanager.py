"""Hand alerts to an Alertmanager (`POST /api/v2/alerts`) for teams that already route with it.

tradewatch sends an alert once per transition, not on every evaluation as Prometheus does,
so a firing alert carries an explicit endsAt `resolve_timeout` ahead (Alertmanager would
otherwise resolve it after its own five minutes); the resolution carries endsAt = now, and
Alertmanager merges it into the firing alert with the same labels.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, ClassVar
from urllib.parse import quote

from monitor.alerts.notification import Notification
from monitor.notify.retry import Gate
from monitor.notify.webhook import post_json
from monitor.retry import RetryPolicy

_LABEL_NAME = re.compile(r"[^A-Za-z0-9_]")


def system_clock() -> datetime:
    """The hand-over time, for callers that do not pass the daemon's clock."""
    return datetime.now(UTC)


def _rfc3339(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@lru_cache(maxsize=1024)  # a watch list has a handful of label names, met in every alert
def _label_name(name: str) -> str:
    cleaned = _LABEL_NAME.sub("_", name)
    return cleaned if cleaned and not cleaned[0].isdigit() else f"_{cleaned}"


def _text(value: Any) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return ""
    return "" if value is None else str(value)


def alertmanager_alert(payload: Notification, now: datetime, resolve_timeout: timedelta,
                       generator_url: str | None = None) -> dict[str, Any]:
    """One postable alert. Labels are the alert's identity (the same on firing and resolved);
    what changes between notifications goes into annotations."""
    labels = {_label_name(str(k)): str(v) for k, v in (payload.labels).items()}
    labels.update({"alertname": str(payload.rule), "series": str(payload.series),
                   "severity": str(payload.severity)})
    annotations = {
        "summary": _text(payload.summary),
        "period": _text(payload.period),
        "since_period": _text(payload.since_period),
        "value": _text(payload.value),
        "threshold": _text(payload.reference),
        "event_period": _text(payload.event_period),
        "episode": _text(payload.episode),
        "fingerprint": _text(payload.fingerprint),
    }
    alert: dict[str, Any] = {"labels": labels, "annotations": {k: v for k, v in annotations.items() if v}}
    if payload.resolved:
        alert["endsAt"] = _rfc3339(now)  # startsAt left out: Alertmanager keeps the firing one's
    else:
        alert["startsAt"] = _rfc3339(now)
        alert["endsAt"] = _rfc3339(now + resolve_timeout)
    if generator_url:
        series = quote(str(payload.series), safe="")
        alert["generatorURL"] = f"{generator_url.rstrip('/')}/api/v1/series/{series}"
    return alert


class AlertmanagerNotifier:
    digests: ClassVar[bool] = True

    def __init__(self, name: str, url: str, timeout: float = 10.0, *, generator_url: str | None = None,
                 resolve_timeout: timedelta = timedelta(days=365),
                 clock: Callable[[], datetime] = system_clock, retry: RetryPolicy | None = None) -> None:
        self.name = name
        self._endpoint = url.rstrip("/") + "/api/v2/alerts"
        self._timeout = timeout
        self._generator_url = generator_url
        self._resolve_timeout = resolve_timeout
        self._clock = clock
        self._retry = retry or RetryPolicy()
        self._gate = Gate()

    def send(self, payload: Notification) -> None:
        self.send_group([payload], {})

    def send_group(self, payloads: Sequence[Notification], group_labels: Mapping[str, str]) -> None:
        """One request for many alerts; Alertmanager does its own grouping."""
        if not payloads:
            return
        now = self._clock()
        body = [alertmanager_alert(p, now, self._resolve_timeout, self._generator_url) for p in payloads]
        post_json(self._endpoint, body, self._timeout, self._retry, f"alertmanager {self.name}", self._gate)
