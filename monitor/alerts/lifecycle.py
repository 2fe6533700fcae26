"""The alert state machine, pure: previous state + this evaluation -> next state.

Counting is in reference periods, not minutes: `for: 3` means the condition held for three
consecutive periods of the series (the detector's `held_for`), however the periods arrived
(one per poll, or a year of history at once).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from types import MappingProxyType

import pandas as pd

from detectors import Finding
from detectors.contributions import Drivers

EVENT_TOLERANCE = 2  # periods a change point may move and still be the same break


class Status(StrEnum):
    PENDING = "pending"
    FIRING = "firing"
    RESOLVED = "resolved"


@lru_cache(maxsize=1 << 19)  # every cycle asks again for the same (rule, series) pairs
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
    event_period: str | None = None  # for event alerts (change points): the break's period
    # Along the rule's hierarchy: the contributors computed when the alert fired (kept in the
    # store's alert_drivers, so a later revision does not rewrite what its message said):
    drivers: Drivers | None = field(default=None, compare=False)  # a parent's contributors
    parent: str | None = field(default=None, compare=False)  # a child's watched parent series


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
    keep_firing_for: int = 0  # periods a firing alert outlives its condition (anti-flapping)
    drivers: Drivers | None = None  # a parent's finding: the children that drove it
    parent: str | None = None  # a child's finding: its watched parent along the rule's hierarchy


@dataclass(frozen=True, slots=True)
class Transition:
    """A state change; `notify` says whether receivers hear about it."""

    alert: Alert
    previous: Alert | None

    @property
    def previous_status(self) -> Status | None:
        return self.previous.status if self.previous is not None else None

    @property
    def notify(self) -> bool:
        """Firing is news when it starts an episode; resolution when a condition stops
        holding. Events (change points) resolve quietly: the break itself does not end."""
        if self.alert.status is Status.FIRING:
            return self.previous_status is not Status.FIRING or (
                self.previous is not None and self.previous.episode != self.alert.episode)
        return (self.alert.status is Status.RESOLVED and self.previous_status is Status.FIRING
                and self.alert.event_period is None)


def step(previous: Alert | None, evaluation: Evaluation, now: datetime) -> Alert | None:
    """Next state of one alert; None means "no alert" (never active, or pending that lapsed)."""
    finding = evaluation.finding
    if finding is not None and finding.kind == "event":
        return _step_event(previous, evaluation, finding, now)
    was_active = previous is not None and previous.status is not Status.RESOLVED
    if finding is None:
        if previous is None or previous.status is Status.RESOLVED:
            return previous
        if previous.status is Status.PENDING:
            return None
        if evaluation.keep_firing_for and previous.event_period is None and _periods_between(
                previous.period, evaluation.period) <= evaluation.keep_firing_for:
            return previous  # still firing: the condition may come back within the window
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
        drivers=_drivers(base, evaluation),
        parent=evaluation.parent,
    )


def _drivers(previous: Alert | None, evaluation: Evaluation) -> Drivers | None:
    """A firing alert keeps the contributors it fired with (what its message said), whatever
    a later evaluation of the episode (a revision, the next release) computes."""
    if previous is not None and previous.status is Status.FIRING and previous.drivers is not None:
        return previous.drivers
    return evaluation.drivers


def _step_event(previous: Alert | None, evaluation: Evaluation, finding: Finding,
                now: datetime) -> Alert:
    """One alert per break: a break that moves by up to EVENT_TOLERANCE periods as more data
    arrives is the same break (updated quietly); a break elsewhere is a new episode."""
    brk = str(finding.details.get("break_period", finding.period))
    same = (previous is not None and previous.status is Status.FIRING
            and previous.event_period is not None
            and _periods_apart(previous.event_period, brk, finding.period) <= EVENT_TOLERANCE)
    if same and previous is not None:
        return replace(previous, period=str(finding.period), event_period=brk, value=finding.value,
                       reference=finding.reference, summary=finding.summary,
                       labels=MappingProxyType(dict(evaluation.labels)), updated_at=now,
                       drivers=_drivers(previous, evaluation), parent=evaluation.parent)
    return Alert(
        fingerprint=fingerprint(evaluation.rule, evaluation.series),
        rule=evaluation.rule,
        series=evaluation.series,
        labels=MappingProxyType(dict(evaluation.labels)),
        severity=evaluation.severity,
        status=Status.FIRING,
        episode=(previous.episode if previous is not None else 0) + 1,
        period=str(finding.period),
        since_period=brk,
        value=finding.value,
        reference=finding.reference,
        summary=finding.summary,
        active_at=now,
        fired_at=now,
        resolved_at=None,
        updated_at=now,
        event_period=brk,
        drivers=evaluation.drivers,
        parent=evaluation.parent,
    )


def _periods_between(earlier: str, later: str) -> int:
    """Reference periods from `earlier` to `later` ("2015-03" to "2015-05" is 2)."""
    start, end = pd.Period(earlier), pd.Period(later)
    return (end - start.asfreq(end.freq)).n


def _periods_apart(a: str, b: str, like: pd.Period) -> int:
    freq = like.freq
    return abs((pd.Period(a, freq=freq) - pd.Period(b, freq=freq)).n)


def transition(previous: Alert | None, current: Alert | None) -> Transition | None:
    """The change between two states worth persisting, if any."""
    if current is None or current == previous:
        return None
    return Transition(current, previous)
