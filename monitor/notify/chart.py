"""The chart attached to an alert, showing what the rule saw: the level, and for transformed
rules the transformed series with its threshold and flagged run; change points with the
segment means. matplotlib's object API on the Agg canvas: no pyplot, no global state, no
display."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pandas as pd

from detectors import is_percent_change, transform_label
from monitor.alerts.notification import Notification
from monitor.notify.facts import facts, period_of, transformed
from monitor.notify.ruleinfo import RuleInfo
from monitor.notify.wording import frequency_of, period_name, scaled, span_name, subject, unit_of

log = logging.getLogger(__name__)

WINDOW_YEARS = 10

HistoryFn = Callable[[str], pd.Series]


class SeriesData:
    """The history of a series and its newest fetch time, read once per send."""

    def __init__(self, history: HistoryFn | None, series: str) -> None:
        self.values: pd.Series | None = None
        self.at: datetime | None = None
        if history is None:
            return
        try:
            self.values = history(series)
            at = self.values.attrs.get("vintage")
            self.at = at if isinstance(at, datetime) else None
        except Exception:  # a chart is a nicety: its data failing must not stop the alert
            log.warning("no history for the chart series=%s", series, exc_info=True)


def chart_or_none(data: SeriesData, payload: Notification, info: RuleInfo | None = None) -> bytes | None:
    """The chart, or None when there is no history or it cannot be drawn: the alert goes
    out without one."""
    if data.values is None:
        return None
    try:
        return chart_png(data.values, payload, info)
    except Exception:
        log.warning("chart not drawn series=%s", payload.series, exc_info=True)
        return None


def chart_filename(payload: Notification) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", f"{payload.series}-{payload.period}") + ".png"


def _axis_scale(values: pd.Series, unit_label: str | None) -> tuple[float, str]:
    """The divisor and axis label that make values read as "US$ bn", "€ m"; raw otherwise."""
    unit = unit_of(unit_label)
    if unit is None:
        return 1.0, str(unit_label or "")
    top = float(values.abs().max()) * unit.scale if len(values) else 0.0
    _, word = scaled(top)
    size = {"tn": 1e12, "bn": 1e9, "m": 1e6, "k": 1e3}.get(word, 1.0)
    return size / unit.scale, f"{unit.symbol} {word}".strip()


def _shade(ax: Any, start: pd.Period | None, end: pd.Period | None) -> None:
    if start is not None and end is not None:
        ax.axvspan(start.start_time, end.end_time, color="#d62728", alpha=0.10, linewidth=0,
                   label="flagged run" if start != end else "flagged period")


def chart_png(history: pd.Series, payload: Notification, info: RuleInfo | None = None) -> bytes:
    """PNG bytes; `history` is the series' current values on a PeriodIndex. Percent-change
    rules get two panels: the level, and what the rule looked at as bars with the threshold
    and the flagged run; change points get the segment means over the level."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    history = history.dropna().sort_index()
    if not isinstance(history.index, pd.PeriodIndex) or history.empty:
        raise ValueError("a chart needs a non-empty series on a PeriodIndex")
    freq = history.index.freq
    per_year = {"M": 12, "Q": 4}.get(str(freq.freqstr)[0], 1) if freq is not None else 12
    years = WINDOW_YEARS if info is None or info.detector in ("changepoint", "robust_z") else 3
    found = facts(payload, info, history)
    start = period_of(found.run_start or payload.since_period, freq)
    end = period_of(payload.period, freq)
    last = max(end, history.index[-1]) if end is not None else history.index[-1]
    window = history[history.index > last - years * per_year]
    changes = transformed(history, info) if info is not None and info.transform != "level" else None
    two = changes is not None

    figure = Figure(figsize=(8, 5.2 if two else 3.4), dpi=110)
    FigureCanvasAgg(figure)
    axes = figure.subplots(2, 1, sharex=True, height_ratios=[1, 1]) if two else [figure.add_subplot()]
    figure.subplots_adjust(left=0.1, right=0.98, top=0.9 if two else 0.86, bottom=0.08 if two else 0.12,
                           hspace=0.25)
    level_ax = axes[0]
    divisor, axis = _axis_scale(window, payload.labels.get("unit"))
    x = window.index.to_timestamp(how="start")
    level_ax.plot(x, window.to_numpy() / divisor, color="#1f4e79", linewidth=1.6, label="level")
    if info is not None and info.transform == "yoy_pct":
        year_before = history.shift(per_year, freq=freq).reindex(window.index)
        level_ax.plot(x, year_before.to_numpy() / divisor, color="#999999", linewidth=1.1,
                      linestyle="--", label="a year earlier")
    if not two:
        _shade(level_ax, start, end)
        _threshold_line(level_ax, payload, info, divisor)
    event = period_of(payload.event_period, freq)
    if event is not None:
        level_ax.axvline(event.start_time, color="#444444", linestyle="--", linewidth=1.2,
                         label=f"change point {period_name(str(event))}")
        before, after = window[window.index < event].iloc[-2 * per_year:], window[window.index >= event]
        levels = (payload.reference, payload.value)
        for part, level, text in ((before, levels[0], "average before"), (after, levels[1], "average after")):
            if not part.empty:
                mean = float(part.mean()) if level is None else level
                level_ax.hlines(mean / divisor, part.index[0].start_time, part.index[-1].end_time,
                                color="#d62728" if text.endswith("after") else "#2ca02c", linewidth=2,
                                alpha=0.8, label=text)
    level_ax.set_ylabel(axis, parse_math=False)
    figure.suptitle(subject(payload.labels, str(payload.series)), x=0.1, ha="left", fontsize=11,
                    parse_math=False)
    level_ax.set_title("Level", loc="left", fontsize=9, color="#444444", parse_math=False)
    if two and changes is not None and info is not None:
        _change_panel(axes[1], changes[changes.index.isin(window.index)], payload, info, start, end)
    for ax in axes:
        ax.grid(True, color="#e5e5e5", linewidth=0.6)
        ax.spines[["top", "right"]].set_visible(False)
        ax.legend(loc="upper left", fontsize=8, frameon=False)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def _threshold_line(ax: Any, payload: Notification, info: RuleInfo | None, divisor: float = 1.0) -> None:
    if info is not None and info.detector in ("threshold", "consecutive") and payload.reference is not None:
        ax.axhline(payload.reference / divisor, color="#d62728", linestyle=":", linewidth=1.2,
                   label="threshold")


def _change_panel(ax: Any, changes: pd.Series, payload: Notification, info: RuleInfo,
                  start: pd.Period | None, end: pd.Period | None) -> None:
    """What the rule looked at (YoY %, MoM %, ...) as bars, the flagged ones in red."""
    changes = changes.dropna()
    flagged = (changes.index >= start) & (changes.index <= end) if start is not None and end is not None \
        else [False] * len(changes)
    width = 25 if changes.index.freqstr.startswith("M") else 80
    ax.bar(changes.index.to_timestamp(how="start"), changes.to_numpy(), width=width, align="edge",
           color=["#d62728" if f else "#9bb3cc" for f in flagged])
    ax.axhline(0, color="#888888", linewidth=0.8)
    _shade(ax, start, end)
    _threshold_line(ax, payload, info)
    label = _change_label(payload, info)
    ax.set_ylabel(label, parse_math=False)
    ax.set_title(f"{label}: what the rule looked at", loc="left", fontsize=9, color="#444444",
                 parse_math=False)


def _change_label(payload: Notification, info: RuleInfo) -> str:
    freq = {"A": "Y"}.get(frequency_of(payload.period), frequency_of(payload.period))
    try:
        label = transform_label(info.transform, freq, **dict(info.transform_params))
    except (KeyError, ValueError, TypeError):
        label = info.transform
    return f"{label} %" if is_percent_change(info.transform) else (label or info.transform)


def alt_text(payload: Notification, info: RuleInfo | None = None) -> str:
    """What a screen reader says instead of the picture, in words."""
    who = subject(payload.labels, str(payload.series))
    span = span_name(payload.since_period, payload.period)
    if info is not None and info.transform != "level":
        text = (f"Chart of {who}: the level over recent years, and below it the "
                f"{_change_label(payload, info)} as bars, with the flagged periods ({span}) in red")
        if info.detector in ("threshold", "consecutive") and payload.reference is not None:
            text += f" and the threshold at {payload.reference:g}"
    else:
        text = f"Line chart of {who} with the flagged periods ({span}) shaded"
    if payload.event_period:
        text += (f", a change point in {period_name(payload.event_period)} and the averages "
                 "before and after it")
    return text[:1000]
