"""The alert state machine, pure: previous state + this evaluation -> next state.

Counting is in reference periods, not minutes: `for: 3` means the condition held for three
consecutive periods of the series (the detector's `held_for`), however the periods arrived
(one per poll, or a year of history at once).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

from detectors import Finding


class Status(StrEnum):
    PENDING = "pending"
    FIRING = "firing"
    RESOLVED = "resolved"


def fingerprint(rule: str, series: str) -> str:
    """Stable across runs and processes: the rule and the series id (itself derived from the
    series' identifying labels), so editing a rule's routing labels keeps its alerts."""
    canonical = json.dumps([rule, series], ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Alert:
    fingerprint: str
    rule: str
    series: str
    labels: Mapping[str, str]
    severity: str
    status: Status
    episode: int
    period: str
    since_period: str
    value: float
    reference: float
    summary: str
    active_at: datetime
    fired_at: datetime | None
    resolved_at: datetime | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Evaluation:
    """What one rule concluded about one series at its newest period."""

    rule: str
    series: str
    labels: Mapping[str, str]
    severity: str
    for_periods: int
    period: str
    finding: Finding | None
    resolution: str  # the sentence to send if a firing alert resolves now


@dataclass(frozen=True, slots=True)
class Transition:
    """A state change; `notify` says whether receivers hear about it."""

    alert: Alert
    previous: Status | None

    @property
    def notify(self) -> bool:
        if self.alert.status is Status.FIRING:
            return self.previous is not Status.FIRING
        return self.alert.status is Status.RESOLVED and self.previous is Status.FIRING


def step(previous: Alert | None, evaluation: Evaluation, now: datetime) -> Alert | None:
    """Next state of one alert; None means "no alert" (never active, or pending that lapsed)."""
    finding = evaluation.finding
    was_active = previous is not None and previous.status is not Status.RESOLVED
    if finding is None:
        if previous is None or previous.status is Status.RESOLVED:
            return previous
        if previous.status is Status.PENDING:
            return None
        return replace(previous, status=Status.RESOLVED, period=evaluation.period,
                       summary=evaluation.resolution, resolved_at=now, updated_at=now)
    held = int(finding.details.get("held_for", 1))
    status = Status.FIRING if held >= evaluation.for_periods else Status.PENDING
    if previous is not None and previous.status is Status.FIRING:
        status = Status.FIRING  # a firing alert stays firing while the condition holds
    episode = (previous.episode if previous is not None else 0) + (0 if was_active else 1)
    base = previous if was_active and previous is not None else None
    return Alert(
        fingerprint=fingerprint(evaluation.rule, evaluation.series),
        rule=evaluation.rule,
        series=evaluation.series,
        labels=MappingProxyType(dict(evaluation.labels)),
        severity=evaluation.severity,
        status=status,
        episode=episode,
        period=str(finding.period),
        since_period=base.since_period if base else str(finding.period - (held - 1)),
        value=finding.value,
        reference=finding.reference,
        summary=finding.summary,
        active_at=base.active_at if base else now,
        fired_at=(base.fired_at if base and base.fired_at else (now if status is Status.FIRING else None)),
        resolved_at=None,
        updated_at=now,
    )


def transition(previous: Alert | None, current: Alert | None) -> Transition | None:
    """The change between two states worth persisting, if any."""
    if current is None or current == previous:
        return None
    return Transition(current, previous.status if previous is not None else None)
