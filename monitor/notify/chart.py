"""The chart attached to an alert: the series, the flagged periods marked, the change point
drawn. matplotlib's object API on the Agg canvas: no pyplot, no global state, no display."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pandas as pd

from monitor.alerts.notification import Notification
from monitor.labels import subject
from monitor.notify.ruleinfo import RuleInfo

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


def chart_png(history: pd.Series, payload: Notification, info: RuleInfo | None = None) -> bytes:
    """PNG bytes; `history` is the series' current values on a PeriodIndex."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    history = history.dropna().sort_index()
    if not isinstance(history.index, pd.PeriodIndex) or history.empty:
        raise ValueError("a chart needs a non-empty series on a PeriodIndex")
    freq = history.index.freq
    per_year = {"M": 12, "Q": 4}.get(str(freq.freqstr)[0], 1) if freq is not None else 12
    history = history.iloc[-WINDOW_YEARS * per_year:]
    start, end = _period(payload.since_period, freq), _period(payload.period, freq)
    flagged = history[(history.index >= start) & (history.index <= end)] if start and end else \
        history.iloc[0:0]

    figure = Figure(figsize=(8, 3.4), dpi=110)
    FigureCanvasAgg(figure)
    figure.subplots_adjust(left=0.09, right=0.98, top=0.9, bottom=0.12)  # fixed: one draw, not two
    ax = figure.add_subplot()
    x = history.index.to_timestamp(how="start")
    ax.plot(x, history.to_numpy(), color="#1f4e79", linewidth=1.4, label="reported value")
    if not flagged.empty:
        fx = flagged.index.to_timestamp(how="start")
        ax.axvspan(fx[0], flagged.index[-1].end_time, color="#d62728", alpha=0.12, linewidth=0)
        ax.scatter(fx, flagged.to_numpy(), color="#d62728", s=18, zorder=3, label="flagged")
    event = _period(payload.event_period, freq)
    if event is not None:
        ax.axvline(event.to_timestamp(how="start"), color="#444444", linestyle="--", linewidth=1.2,
                   label=f"change point {event}")
    labels = payload.labels
    title = subject({**labels, "series": str(payload.series)})
    ax.set_title(title, loc="left", fontsize=11, parse_math=False)
    flagged_text = f"{payload.rule}: {start}" + (f" to {end}" if start != end else "")
    ax.set_title(flagged_text, loc="right", fontsize=8, color="#666666", parse_math=False)
    unit = labels.get("unit")
    if unit:
        ax.set_ylabel(str(unit), parse_math=False)
    ax.grid(True, color="#dddddd", linewidth=0.6)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def _period(value: Any, freq: Any) -> pd.Period | None:
    if not value or freq is None:
        return None
    try:
        return pd.Period(str(value), freq=freq)
    except (ValueError, TypeError):
        return None


def alt_text(payload: Notification, info: RuleInfo | None = None) -> str:
    """What a screen reader says instead of the picture."""
    text = (f"Line chart of {payload.series} with the flagged periods "
            f"{payload.since_period} to {payload.period} marked")
    if payload.event_period:
        text += f" and a change point at {payload.event_period}"
    return text[:1000]
