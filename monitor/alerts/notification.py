"""What receivers are told about an alert: a typed record, written to the outbox as JSON in
the same transaction as the alert's transition, read back by the dispatcher, and given to
every receiver. Everything needed to render is in it; a receiver never looks anything up.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any

from detectors.contributions import Contributor, Drivers, Missing
from monitor.alerts.lifecycle import Alert, Status


@dataclass(frozen=True, slots=True)
class Notification:
    status: Status
    rule: str
    series: str
    labels: Mapping[str, str]
    severity: str
    period: str
    since_period: str | None
    value: float | None  # None when the value is missing (a resolution for lack of data)
    reference: float | None  # the threshold, or the level before a change
    summary: str
    episode: int
    fingerprint: str
    event_period: str | None = None  # events (change points): the break's period
    reminder: bool = False  # a firing alert repeated after `repeat_interval`
    receiver: str | None = None  # a reminder is for this receiver only
    drivers: Drivers | None = None  # an alert on a parent: the children that drove it
    parent: str | None = None  # an alert on a child: its watched parent (one message may say both)

    @property
    def resolved(self) -> bool:
        return self.status is Status.RESOLVED

    @classmethod
    def of(cls, alert: Alert) -> Notification:
        return cls(status=alert.status, rule=alert.rule, series=alert.series,
                   labels=MappingProxyType(dict(alert.labels)), severity=alert.severity, period=alert.period,
                   since_period=alert.since_period, value=_number(alert.value),
                   reference=_number(alert.reference), summary=alert.summary, episode=alert.episode,
                   fingerprint=alert.fingerprint, event_period=alert.event_period,
                   drivers=alert.drivers, parent=alert.parent)

    def reminding(self, receiver: str) -> Notification:
        return replace(self, reminder=True, receiver=receiver)

    def to_json(self) -> dict[str, Any]:
        """The outbox row's payload and the webhook's `alert`: the keys receivers have always
        been sent; `reminder` and `receiver` only on reminders."""
        data: dict[str, Any] = {
            "status": self.status.value, "rule": self.rule, "series": self.series,
            "labels": dict(self.labels), "severity": self.severity, "period": self.period,
            "since_period": self.since_period, "value": self.value, "reference": self.reference,
            "summary": self.summary, "episode": self.episode, "event_period": self.event_period,
            "fingerprint": self.fingerprint,
        }
        if self.drivers is not None:
            data |= drivers_json(self.drivers)
        if self.parent is not None:
            data["parent"] = self.parent
        if self.reminder:
            data["reminder"] = True
        if self.receiver is not None:
            data["receiver"] = self.receiver
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Notification:
        """Read back an outbox payload (or a Slack thread's saved parent)."""
        labels = data.get("labels") or {}
        return cls(
            status=Status(str(data.get("status", Status.FIRING.value))), rule=str(data.get("rule", "")),
            series=str(data.get("series", "")),
            labels=MappingProxyType({str(k): str(v) for k, v in labels.items()}),
            severity=str(data.get("severity", "")), period=str(data.get("period", "")),
            since_period=_text(data.get("since_period")), value=_number(data.get("value")),
            reference=_number(data.get("reference")), summary=str(data.get("summary", "")),
            episode=int(data.get("episode", 0)), fingerprint=str(data.get("fingerprint", "")),
            event_period=_text(data.get("event_period")), reminder=bool(data.get("reminder", False)),
            receiver=_text(data.get("receiver")), drivers=drivers_from_json(data),
            parent=_text(data.get("parent")))


def drivers_json(drivers: Drivers) -> dict[str, Any]:
    """`contributors` (the top children: series, labels, change, pct, share) and
    `contributors_summary` (the parent's change, the rest counted, the missing named)."""
    return {
        "contributors": [{"series": c.series, "labels": dict(c.labels), "change": c.change,
                          "pct": c.pct, "share": c.share} for c in drivers.top],
        "contributors_summary": {
            "label": drivers.label, "period": drivers.period, "compared_with": drivers.compared_with,
            "parent_change": drivers.parent_change, "rest_count": drivers.rest_count,
            "rest_change": drivers.rest_change, "unattributed": drivers.unattributed,
            "missing": [{"value": m.value, "series": m.series} for m in drivers.missing]},
    }


def drivers_from_json(data: Mapping[str, Any]) -> Drivers | None:
    summary = data.get("contributors_summary")
    if not isinstance(summary, Mapping):
        return None
    top = tuple(Contributor(str(c.get("series", "")),
                            {str(k): str(v) for k, v in (c.get("labels") or {}).items()},
                            _number(c.get("change")) or 0.0, _number(c.get("pct")), _number(c.get("share")))
                for c in data.get("contributors") or [] if isinstance(c, Mapping))
    missing = tuple(Missing(str(m.get("value", "")), _text(m.get("series")))
                    for m in summary.get("missing") or [] if isinstance(m, Mapping))
    return Drivers(str(summary.get("label", "")), str(summary.get("period", "")),
                   str(summary.get("compared_with", "")), _number(summary.get("parent_change")) or 0.0,
                   top, int(summary.get("rest_count") or 0), _number(summary.get("rest_change")) or 0.0,
                   missing)


def _number(value: Any) -> float | None:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
