"""The figures a message and its chart show beside the finding's value: the level in the
alert's period and a year (or period) earlier, the transformed series the rule looked at, and
the values of a flagged run. Read from the series' history the notifier already has; every
figure is optional, since a message must go out without it."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pandas as pd

from detectors import apply_transform, periods_per_year
from monitor.alerts.notification import Notification
from monitor.notify.ruleinfo import RuleInfo

log = logging.getLogger(__name__)

MAX_RUN = 24  # periods of a run listed in a message


@dataclass(frozen=True, slots=True)
class Facts:
    level: float | None = None  # the series' level in the alert's period
    earlier: float | None = None  # its level one comparison lag before
    lag: int = 0  # periods back `earlier` is: 12 for YoY on monthly data, 1 for MoM
    transformed: pd.Series | None = None  # what the rule looked at, on the history's index
    run: tuple[tuple[str, float], ...] = ()  # (period, transformed value) of the flagged periods

    @property
    def run_start(self) -> str | None:
        return self.run[0][0] if self.run else None


def period_of(text: str | None, freq: object) -> pd.Period | None:
    """A notification's period text as a Period of the series' frequency, None if it is not one."""
    if not text or freq is None:
        return None
    try:
        return pd.Period(str(text), freq=freq)
    except (TypeError, ValueError):
        return None


def _value(series: pd.Series, period: pd.Period | None) -> float | None:
    if period is None or period not in series.index:
        return None
    x = float(series.loc[period])
    return x if pd.notna(x) else None


def lag_of(transform: str, freq: object) -> int:
    """How far back a transform compares: a year for YoY, one period for MoM and diff."""
    if transform == "yoy_pct":
        return periods_per_year(freq)
    return 1 if transform in ("mom_pct", "diff") else 0


def transformed(history: pd.Series, info: RuleInfo | None) -> pd.Series | None:
    """The history as the rule sees it; None for transforms that need more than the series
    itself (`share` needs its parent)."""
    if info is None or info.transform == "level":
        return history
    if info.transform == "share":
        return None
    try:
        frame = apply_transform(info.transform, history.to_frame("x"), **dict(info.transform_params))
        return frame["x"]
    except Exception:  # a figure is a nicety: the message goes out without it
        log.debug("transform not applied for the message", exc_info=True)
        return None


def _run_start(values: pd.Series, end: pd.Period, info: RuleInfo) -> pd.Period | None:
    """Where the run of periods beyond the threshold that ends at `end` began: an alert's
    `since_period` is when it first held, `count` periods into the run."""
    threshold, direction = info.params.get("threshold"), info.direction
    if not isinstance(threshold, int | float) or direction not in ("below", "above") \
            or info.params.get("window"):
        return None
    first = None
    period = end
    while period in values.index:
        x = float(values.loc[period])
        if not (x < threshold if direction == "below" else x > threshold):
            break
        first, period = period, period - 1
    return first


def facts(payload: Notification, info: RuleInfo | None, history: pd.Series | None) -> Facts:
    if history is None or history.empty or not isinstance(history.index, pd.PeriodIndex):
        return Facts()
    history = history.sort_index()
    freq = history.index.freq
    end = period_of(payload.period, freq)
    lag = lag_of(info.transform, freq) if info else 0
    earlier = _value(history, end - lag) if end is not None and lag else None
    values = transformed(history, info)
    run: tuple[tuple[str, float], ...] = ()
    start = period_of(payload.since_period, freq)
    if values is not None and end is not None and info is not None and info.detector == "consecutive":
        start = _run_start(values, end, info) or start
    if values is not None and start is not None and end is not None and start <= end:
        window = values[(values.index >= start) & (values.index <= end)].dropna()
        run = tuple((str(p), float(v)) for p, v in window.iloc[-MAX_RUN:].items())
    return Facts(level=_value(history, end), earlier=earlier, lag=lag, transformed=values, run=run)
