"""What an alert message says, worded for a policy reader: a headline that tells what
happened ("China's exports to Russia: 5th monthly fall in a row"), the finding's sentence,
the figures with their units, the run's months and values, and where the data comes from.

Pure: a notification, its rule's metadata and the series' history in, a `Message` out;
render.py lays it out for each receiver, so every receiver says the same thing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

from detectors import transform_label, value_kind
from detectors.wording import ordinal, stated_count
from monitor.alerts.notification import Notification
from monitor.notify.annotations import Annotations, annotate
from monitor.notify.facts import Facts, facts
from monitor.notify.ruleinfo import RuleInfo
from monitor.notify.wording import (
    amount,
    commodity_name,
    frequency_of,
    number,
    percent,
    period_name,
    short_period_name,
    span_name,
    subject,
)

_NOUN = {"M": "month", "Q": "quarter", "A": "year"}
_ADJECTIVE = {"M": "monthly", "Q": "quarterly", "A": "annual"}
_EARLIER = {"M": "a month earlier", "Q": "a quarter earlier", "A": "a year earlier"}
_VALUE_NAME = {"staleness": "Latest value", "revision": "Revised to"}
_HIDDEN_LABELS = ("series", "alertname", "severity")


@dataclass(frozen=True, slots=True)
class Message:
    headline: str  # without the severity icon
    summary: str  # the finding's sentence
    fields: tuple[tuple[str, str], ...]  # (name, text), in reading order
    run: str  # "Nov 2014 -8.2% · Dec 2014 -10.1% · …", or ""
    source: str  # "Source: rosstat · Data as of 15 May 2015, 06:00 UTC · Rule r"
    labels: str  # the series id and raw labels, "rus-chn/import/total · commodity=TOTAL, …"
    notes: Annotations = field(default_factory=Annotations)  # the rule's annotations and the receiver's links


@dataclass(frozen=True, slots=True)
class _Figures:
    """How values of one rule read: "-16.4% YoY", "US$ 8.1 bn"."""

    transform: str
    label: str
    unit: str | None

    def value(self, x: float | None) -> str:
        if x is None or not math.isfinite(x):
            return "n/a"
        if not self.transform:  # the rule is not known here: the bare number
            return number(x, 2 if abs(x) < 100 else 1)
        kind = value_kind(self.transform)
        if kind == "percent_change":
            return percent(x, self.label)
        if kind == "percent_level":
            return f"{number(x)}% of the total"
        if kind == "change":
            text = amount(abs(x), self.unit)
            return ("+" if x > 0 else "-" if x < 0 else "") + text + (f" {self.label}" if self.label else "")
        if self.transform == "log":
            return number(x, 3)
        return amount(x, self.unit) + (f" ({self.label})" if self.label else "")

    def precise(self, x: float | None) -> str:
        """A level with two decimals once scaled ("US$ 2.95 bn"), for revisions."""
        if x is None or not math.isfinite(x) or self.transform != "level":
            return self.value(x)
        return amount(x, self.unit, 2)

    @property
    def percent_change(self) -> bool:
        return bool(self.transform) and value_kind(self.transform) == "percent_change"


def _figures(payload: Notification, info: RuleInfo | None) -> _Figures:
    transform = info.transform if info else ""
    freq = {"A": "Y"}.get(frequency_of(payload.period), frequency_of(payload.period))
    try:
        label = transform_label(transform, freq, **dict(info.transform_params if info else {}))
    except (KeyError, ValueError, TypeError):
        label = ""
    return _Figures(transform, label, payload.labels.get("unit"))


def run_length(since: str | None, period: str) -> int:
    """Periods from `since` to `period`, both included; 1 when it cannot tell."""
    freq = {"A": "Y"}.get(frequency_of(period), frequency_of(period))
    try:
        first, last = pd.Period(since or period, freq=freq), pd.Period(period, freq=freq)
        return max(1, last.ordinal - first.ordinal + 1)
    except (TypeError, ValueError):
        return 1


def run_count(payload: Notification, info: RuleInfo | None, found: Facts | None) -> int:
    """How long a consecutive rule's run is (or, with a window, how many of its periods were
    beyond the threshold): what the finding's sentence says, so that the headline and the
    period shown agree with it; else the run read off the history; else counted from
    `since_period`, when the alert first held and the run was `count` long."""
    stated = stated_count(payload.summary)
    if stated is not None:
        return stated
    window = info.params.get("window") if info else None
    if found is not None and found.run and not window:
        return len(found.run)
    held = int(info.params.get("count", 1)) if info else 1
    return run_length(payload.since_period, payload.period) + held - 1


def run_start(payload: Notification, info: RuleInfo | None, found: Facts) -> str | None:
    """The first period of a consecutive rule's run, `run_count - 1` periods before the
    alert's; for other rules, the period the alert first held."""
    if info is None or info.detector != "consecutive" or info.params.get("window"):
        return found.run_start or payload.since_period
    freq = {"A": "Y"}.get(frequency_of(payload.period), frequency_of(payload.period))
    try:
        return str(pd.Period(payload.period, freq=freq) - (run_count(payload, info, found) - 1))
    except (TypeError, ValueError):
        return found.run_start or payload.since_period


def headline(payload: Notification, info: RuleInfo | None, found: Facts | None = None) -> str:
    """"<who>: <what happened>", in words."""
    who = subject(payload.labels, fallback=str(payload.series))
    what = _resolved_what(payload, info) if payload.resolved else _firing_what(payload, info, found)
    return f"{who}: {what}" + (" (still firing)" if payload.reminder else "")


def _firing_what(payload: Notification, info: RuleInfo | None, found: Facts | None) -> str:
    fig = _figures(payload, info)
    kind, direction = (info.detector, info.direction) if info else ("", "")
    when = period_name(payload.period)
    freq = frequency_of(payload.period)
    value, reference = payload.value, payload.reference
    below = direction == "below" or (direction != "above" and value is not None and reference is not None
                                     and value < reference)
    side = "below" if below else "above"
    if kind == "consecutive":
        window = info.params.get("window") if info else None
        count = run_count(payload, info, found)
        if window:
            return f"{count} of the last {window} {_NOUN[freq]}s {side} {fig.value(reference)}"
        if fig.percent_change and reference is not None and (reference <= 0 if below else reference >= 0):
            return f"{ordinal(count)} {_ADJECTIVE[freq]} {'fall' if below else 'rise'} in a row"
        return f"{ordinal(count)} {_NOUN[freq]} in a row {side} {fig.value(reference)}"
    if kind == "threshold" and value is not None:
        if fig.percent_change:
            return f"{'down' if value < 0 else 'up'} {percent(abs(value), fig.label, signed=False)} in {when}"
        return f"{fig.value(value)} in {when}, {side} {fig.value(reference)}"
    if kind == "robust_z":
        move = "fall" if value is not None and reference is not None and value < reference else "rise"
        return f"unusual {move} in {when} ({fig.value(value)})"
    if kind == "changepoint":
        move = "down" if value is not None and reference is not None and value < reference else "up"
        return f"shifted {move} from {period_name(payload.event_period or payload.period)}"
    if kind == "staleness":
        return f"new data overdue (latest {when})"
    if kind == "revision":
        move = "down" if value is not None and reference is not None and value < reference else "up"
        return f"{when} revised {move}"
    return f"{payload.rule} in {when}"


def _resolved_what(payload: Notification, info: RuleInfo | None) -> str:
    if info is None:
        return f"{payload.rule} resolved"
    fig = _figures(payload, info)
    threshold = info.params.get("threshold")
    if info.detector in ("consecutive", "threshold") and isinstance(threshold, int | float) \
            and info.direction in ("below", "above"):
        back = "above" if info.direction == "below" else "below"
        return f"back {back} {fig.value(float(threshold))}"
    if info.detector == "staleness":
        return f"data up to date again ({period_name(payload.period)})"
    if info.detector == "robust_z":
        return f"back to usual levels in {period_name(payload.period)}"
    return f"back to normal in {period_name(payload.period)}"


def _level_text(payload: Notification, found: Facts) -> str:
    unit = payload.labels.get("unit")
    text = f"{amount(found.level, unit)} in {period_name(payload.period)}"
    if found.earlier is not None:
        freq = frequency_of(payload.period)
        earlier = "a year earlier" if found.lag > 1 else _EARLIER[freq]
        text += f" against {amount(found.earlier, unit)} {earlier}"
    return text


def _fields(payload: Notification, info: RuleInfo | None, found: Facts) -> tuple[tuple[str, str], ...]:
    fig = _figures(payload, info)
    kind = info.detector if info else ""
    pairs: list[tuple[str, str]] = []
    show = fig.precise if kind == "revision" else fig.value
    if payload.value is not None:
        name = "Change" if fig.percent_change else _VALUE_NAME.get(kind, "Value")
        pairs.append((name, show(payload.value)))
    if found.level is not None and fig.transform not in ("", "level"):
        pairs.append(("Level", _level_text(payload, found)))
    if payload.reference is not None:
        name = {"robust_z": "Usual value", "changepoint": "Before the change",
                "revision": "Previously"}.get(kind, "Threshold")
        pairs.append((name, show(payload.reference)))
    pairs.append(("Period", span_name(run_start(payload, info, found), payload.period)))
    if payload.event_period:
        pairs.append(("Change point", period_name(payload.event_period)))
    commodity = payload.labels.get("commodity")
    if commodity and commodity.upper() != "TOTAL":
        pairs.append(("Commodity", commodity_name(commodity)))
    pairs.append(("Severity", str(payload.severity)))
    return tuple(pairs)


def compose(payload: Notification, info: RuleInfo | None = None, history: pd.Series | None = None,
            vintage: datetime | None = None, links: Sequence[tuple[str, str]] = ()) -> Message:
    found = facts(payload, info, history)
    fig = _figures(payload, info)
    run = " · ".join(f"{short_period_name(p)} {fig.value(v)}" for p, v in found.run) \
        if len(found.run) > 1 else ""
    labels = payload.labels
    shown = {k: v for k, v in labels.items() if k not in _HIDDEN_LABELS}
    source = labels.get("source")
    parts = [f"Source: {source}" if source else "",
             f"Data as of {vintage:%-d %B %Y, %H:%M} UTC" if vintage else "",
             f"Rule {payload.rule}"]
    return Message(
        headline=headline(payload, info, found), summary=str(payload.summary),
        fields=_fields(payload, info, found), run=run,
        source=" · ".join(p for p in parts if p),
        labels=" · ".join([str(payload.series), ", ".join(f"{k}={v}" for k, v in sorted(shown.items()))]),
        notes=annotate(payload, info, links))
