from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import MappingProxyType

import pandas as pd
import pytest

from detectors import Finding
from monitor.alerts.lifecycle import (
    Alert,
    Evaluation,
    Status,
    Transition,
    fingerprint,
    step,
    transition,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
T1 = T0 + timedelta(minutes=5)


def finding(period: str, held_for: int = 1, value: float = -21.6) -> Finding:
    return Finding(rule="decline", series="rus-chn/import/total", period=pd.Period(period, "M"),
                   kind="condition", severity="warning", value=value, reference=-5.0,
                   details=MappingProxyType({"held_for": held_for}), summary=f"fell in {period}")


def evaluation(period: str, found: Finding | None, for_periods: int = 1) -> Evaluation:
    return Evaluation(rule="decline", series="rus-chn/import/total",
                      labels={"alertname": "decline", "series": "rus-chn/import/total"},
                      severity="warning", for_periods=for_periods, period=period, finding=found,
                      resolution=f"resolved in {period}")


def test_no_finding_and_no_alert_stays_nothing() -> None:
    assert step(None, evaluation("2015-03", None), T0) is None


def test_first_finding_fires_immediately_with_for_1() -> None:
    alert = step(None, evaluation("2015-03", finding("2015-03")), T0)
    assert alert is not None
    assert (alert.status, alert.episode, alert.period, alert.since_period) == (
        Status.FIRING, 1, "2015-03", "2015-03")
    assert alert.fired_at == T0 and alert.active_at == T0
    assert alert.fingerprint == fingerprint("decline", "rus-chn/import/total")


def test_for_counts_reference_periods_not_polls() -> None:
    pending = step(None, evaluation("2015-01", finding("2015-01", held_for=1), for_periods=3), T0)
    assert pending is not None and pending.status is Status.PENDING and pending.fired_at is None
    still = step(pending, evaluation("2015-02", finding("2015-02", held_for=2), for_periods=3), T1)
    assert still is not None and still.status is Status.PENDING
    fired = step(still, evaluation("2015-03", finding("2015-03", held_for=3), for_periods=3), T1)
    assert fired is not None and fired.status is Status.FIRING
    assert fired.since_period == "2015-01" and fired.active_at == T0 and fired.fired_at == T1


def test_a_year_of_history_at_once_fires_on_held_for() -> None:
    alert = step(None, evaluation("2015-05", finding("2015-05", held_for=5), for_periods=3), T0)
    assert alert is not None and alert.status is Status.FIRING
    assert alert.since_period == "2015-01"


def test_pending_that_lapses_disappears() -> None:
    pending = step(None, evaluation("2015-01", finding("2015-01"), for_periods=2), T0)
    assert step(pending, evaluation("2015-02", None, for_periods=2), T1) is None


def test_firing_stays_firing_and_keeps_episode() -> None:
    fired = step(None, evaluation("2015-03", finding("2015-03")), T0)
    again = step(fired, evaluation("2015-04", finding("2015-04", held_for=2, value=-34.3)), T1)
    assert again is not None and fired is not None
    assert (again.status, again.episode, again.period, again.value) == (Status.FIRING, 1, "2015-04", -34.3)
    assert again.fired_at == T0 and again.since_period == "2015-03"


def test_firing_resolves_with_the_resolution_sentence() -> None:
    fired = step(None, evaluation("2015-03", finding("2015-03")), T0)
    resolved = step(fired, evaluation("2016-05", None), T1)
    assert resolved is not None
    assert (resolved.status, resolved.period, resolved.summary, resolved.resolved_at) == (
        Status.RESOLVED, "2016-05", "resolved in 2016-05", T1)


def test_resolved_stays_resolved_and_refires_as_a_new_episode() -> None:
    fired = step(None, evaluation("2015-03", finding("2015-03")), T0)
    resolved = step(fired, evaluation("2016-05", None), T1)
    assert step(resolved, evaluation("2016-06", None), T1) is resolved
    refired = step(resolved, evaluation("2017-01", finding("2017-01")), T1)
    assert refired is not None and refired.status is Status.FIRING and refired.episode == 2
    assert refired.since_period == "2017-01" and refired.fired_at == T1


@pytest.mark.parametrize(
    ("previous", "current", "notify"),
    [
        (None, Status.PENDING, False),
        (None, Status.FIRING, True),
        (Status.PENDING, Status.FIRING, True),
        (Status.FIRING, Status.FIRING, False),
        (Status.FIRING, Status.RESOLVED, True),
        (Status.PENDING, Status.RESOLVED, False),
        (Status.RESOLVED, Status.FIRING, True),
    ],
)
def test_which_transitions_notify(previous: Status | None, current: Status, notify: bool) -> None:
    alert = step(None, evaluation("2015-03", finding("2015-03")), T0)
    assert isinstance(alert, Alert)
    from dataclasses import replace

    before = None if previous is None else replace(alert, status=previous)
    assert Transition(replace(alert, status=current), before).notify is notify


def test_transition_only_when_state_changed() -> None:
    alert = step(None, evaluation("2015-03", finding("2015-03")), T0)
    assert transition(alert, alert) is None
    assert transition(None, None) is None
    change = transition(None, alert)
    assert change is not None and change.previous_status is None and change.notify


def event(period: str, brk: str, summary: str = "shifted") -> Finding:
    return Finding(rule="decline", series="rus-chn/import/total", period=pd.Period(period, "M"),
                   kind="event", severity="warning", value=2000.0, reference=2800.0,
                   details=MappingProxyType({"held_for": 1, "break_period": brk}), summary=summary)


def test_a_change_point_fires_once_and_moving_by_two_periods_is_the_same_break() -> None:
    first = step(None, evaluation("2015-03", event("2015-03", "2015-01")), T0)
    assert first is not None and first.status is Status.FIRING and first.event_period == "2015-01"
    assert transition(None, first).notify  # type: ignore[union-attr]
    moved = step(first, evaluation("2015-04", event("2015-04", "2014-11", "moved")), T1)
    assert moved is not None and moved.episode == 1 and moved.event_period == "2014-11"
    change = transition(first, moved)
    assert change is not None and not change.notify and moved.summary == "moved"


def test_a_break_elsewhere_is_a_new_episode_and_events_resolve_quietly() -> None:
    first = step(None, evaluation("2015-03", event("2015-03", "2015-01")), T0)
    other = step(first, evaluation("2015-09", event("2015-09", "2015-07")), T1)
    assert other is not None and other.episode == 2 and other.since_period == "2015-07"
    assert transition(first, other).notify  # type: ignore[union-attr]
    gone = step(other, evaluation("2016-09", None), T1)
    assert gone is not None and gone.status is Status.RESOLVED
    change = transition(other, gone)
    assert change is not None and not change.notify


def test_keep_firing_for_rides_out_short_gaps_then_resolves() -> None:
    def ev(period: str, found: Finding | None) -> Evaluation:
        return Evaluation(rule="decline", series="rus-chn/import/total", labels={}, severity="warning",
                          for_periods=1, period=period, finding=found, resolution=f"resolved {period}",
                          keep_firing_for=2)

    fired = step(None, ev("2015-03", finding("2015-03")), T0)
    assert fired is not None
    assert step(fired, ev("2015-04", None), T1) is fired  # 1 period without the condition
    assert step(fired, ev("2015-05", None), T1) is fired  # 2 periods
    back = step(fired, ev("2015-05", finding("2015-05")), T1)
    assert back is not None and back.status is Status.FIRING and back.episode == 1
    gone = step(fired, ev("2015-06", None), T1)  # 3 periods after the last flag
    assert gone is not None and gone.status is Status.RESOLVED and gone.summary == "resolved 2015-06"
