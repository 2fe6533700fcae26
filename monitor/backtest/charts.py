"""One PNG per alerted series: the series and what the rule compared, firing periods shaded.

matplotlib's object API on the Agg canvas: no pyplot, no global backend switch, no display.
matplotlib is imported only here, only when a report with charts is written.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from monitor.backtest.replay import Event, RuleRun
from monitor.backtest.timeline import format_period


class ChartsUnavailable(RuntimeError):
    """matplotlib is not installed."""


def chart_name(rule: str, series: str) -> str:
    """A file name that is safe everywhere and says what it shows."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{rule}__{series}") + ".png"


def firing_spans(events: Sequence[Event], last: pd.Period) -> list[tuple[pd.Period, pd.Period]]:
    """(first, last) firing period of each episode of one series; open ones run to `last`."""
    spans, since = [], None
    for event in events:
        if event.status == "firing":
            since = event.period
        elif since is not None:
            spans.append((since, event.period - 1))
            since = None
    if since is not None:
        spans.append((since, last))
    return spans


def draw(run: RuleRun, series: str, threshold: float | None, transform: str, target: Path) -> None:
    """Top: the values; bottom: the transformed values and the threshold."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ChartsUnavailable("charts need matplotlib: pip install matplotlib") from None
    levels, values = run.levels[series], run.values[series]
    events = [e for e in run.events if e.series == series]
    x = levels.index.to_timestamp(how="start")
    figure = Figure(figsize=(9, 4.8), dpi=100)
    FigureCanvasAgg(figure)
    top, bottom = figure.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    top.plot(x, levels.to_numpy(dtype=float), color="#1f4e79", linewidth=1.4)
    top.set_title(f"{series}: {run.rule}", fontsize=11, loc="left")
    top.set_ylabel("value")
    bottom.plot(x, values.to_numpy(dtype=float), color="#555555", linewidth=1.1)
    bottom.set_ylabel(transform)
    if threshold is not None:
        bottom.axhline(threshold, color="#c0392b", linestyle="--", linewidth=1,
                       label=f"threshold {threshold:g}")
        bottom.legend(loc="lower left", fontsize=8, frameon=False)
    last = levels.dropna().index[-1]
    for n, (first, until) in enumerate(firing_spans(events, last)):
        start, end = first.start_time, until.end_time
        for axes in (top, bottom):
            axes.axvspan(start, end, color="#e74c3c", alpha=0.18, linewidth=0,
                         label="firing" if n == 0 and axes is top else None)
    if events:
        top.legend(loc="upper left", fontsize=8, frameon=False)
    for axes in (top, bottom):
        axes.grid(True, alpha=0.3)
    first, final = levels.index[0], levels.index[-1]
    figure.text(0.99, 0.01, f"{format_period(first)} to {format_period(final)}", ha="right",
                fontsize=7, color="#777777")
    figure.tight_layout()
    target.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(target, format="png")
