"""What a rule's backtest adds up to: how often it fires, for how long, and, against a list of
known events, how precise and how quick it is.

Scoring against known events (`--events FILE`, a CSV with columns `series` and `period`):

- an alert is the start of a firing episode on a series, at the period it fired;
- an alert matches a known event on the same series when it fired at the event's period or
  up to `tolerance` periods after it (e <= fired <= e + tolerance, in the series' periods);
- precision = alerts matching at least one event / all alerts of the rule;
- recall = events matched by at least one alert / events the rule could see (on a series it
  selects, within the periods it was run over);
- delay of a detected event = periods from the event to its first matching alert.
"""

from __future__ import annotations

import csv
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from monitor.backtest.replay import RuleRun, Span
from monitor.periods import pandas_freq

DEFAULT_TOLERANCE = 3


class EventsFileError(ValueError):
    """A known-events file that cannot be read; the message names the file and line."""


@dataclass(frozen=True, slots=True)
class KnownEvent:
    series: str
    period: pd.Period  # as written; converted to each series' frequency when scored
    line: int


def read_known_events(path: Path) -> list[KnownEvent]:
    """CSV with a header holding `series` and `period` (other columns are ignored)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise EventsFileError(f"{path}: cannot read: {exc.strerror}") from None
    reader = csv.DictReader(text.splitlines())
    columns = {(name or "").strip().lower(): name for name in reader.fieldnames or []}
    missing = [c for c in ("series", "period") if c not in columns]
    if missing:
        raise EventsFileError(f"{path}:1: missing column(s) {', '.join(missing)}; "
                              "expected a header with series and period")
    events = []
    for line, row in enumerate(reader, start=2):
        series = (row.get(columns["series"]) or "").strip()
        text_period = (row.get(columns["period"]) or "").strip()
        if not series and not text_period:
            continue
        try:
            period = pd.Period(text_period)
            valid = not pd.isna(period)
        except (ValueError, TypeError):
            valid = False
        if not series or not valid:
            raise EventsFileError(f"{path}:{line}: need a series id and a period (YYYY-MM, YYYY-Qn "
                                  f"or YYYY), got {series!r}, {text_period!r}")
        events.append(KnownEvent(series, period, line))
    return events


@dataclass(frozen=True, slots=True)
class Score:
    events: int
    detected: int
    alerts: int
    true_alerts: int
    delays: tuple[int, ...]

    @property
    def precision(self) -> float | None:
        return self.true_alerts / self.alerts if self.alerts else None

    @property
    def recall(self) -> float | None:
        return self.detected / self.events if self.events else None

    @property
    def mean_delay(self) -> float | None:
        return statistics.fmean(self.delays) if self.delays else None

    @property
    def median_delay(self) -> float | None:
        return float(statistics.median(self.delays)) if self.delays else None


@dataclass(frozen=True, slots=True)
class Summary:
    rule: str
    series: int
    alerts: int
    open: int  # still firing at the end of the window
    durations: tuple[int, ...]  # periods firing per episode; open ones counted to the end
    series_years: float
    score: Score | None
    removed: Mapping[str, int] = field(default_factory=dict)  # alerts each materiality guard removed

    @property
    def mean_duration(self) -> float | None:
        return statistics.fmean(self.durations) if self.durations else None

    @property
    def per_series_year(self) -> float:
        return self.alerts / self.series_years if self.series_years else 0.0


def summarise(run: RuleRun, known: Sequence[KnownEvent] | None = None,
              tolerance: int = DEFAULT_TOLERANCE) -> Summary:
    """Counts, durations and (with known events) the score of one rule's run."""
    spans = {span.series: span for span in run.spans}
    fired: dict[str, list[pd.Period]] = {}
    durations: list[int] = []
    open_count = 0
    started: dict[str, pd.Period] = {}
    for event in run.events:
        if event.status == "firing":
            fired.setdefault(event.series, []).append(event.period)
            started[event.series] = event.period
        elif event.series in started:
            durations.append((event.period - started.pop(event.series)).n)
    for series, since in started.items():
        durations.append((spans[series].last - since).n + 1)
        open_count += 1
    score = None if known is None else _score(fired, spans, known, tolerance)
    return Summary(run.rule, len(spans), sum(map(len, fired.values())), open_count,
                   tuple(durations), sum(span.years for span in spans.values()), score, dict(run.removed))


def _score(fired: dict[str, list[pd.Period]], spans: dict[str, Span], known: Sequence[KnownEvent],
           tolerance: int) -> Score:
    matched: set[tuple[str, pd.Period]] = set()
    delays: list[int] = []
    seen = 0
    for event in known:
        span = spans.get(event.series)
        if span is None:
            continue
        at = event.period.asfreq(pandas_freq(span.frequency), how="start")
        if not span.first <= at <= span.last:
            continue
        seen += 1
        hits = [f for f in fired.get(event.series, []) if 0 <= (f - at).n <= tolerance]
        if hits:
            matched.update((event.series, f) for f in hits)
            delays.append(min((f - at).n for f in hits))
    alerts = sum(map(len, fired.values()))
    return Score(seen, len(delays), alerts, len(matched), tuple(delays))
