"""Run one rule over a timeline with the daemon's own code: `engine.evaluate_panel` (or the
detector's single whole-panel pass, see below), `lifecycle.step`/`transition` on alerts
kept in memory, and `routing.route` for who would have heard. Nothing is written, nothing
is sent.

Two ways to get each step's evaluations, with the same result:

- per step: `evaluate_panel` on the panel visible at that step (always correct);
- one pass: `detectors.evaluate(scope="all")` over the final panel gives every period's
  flag and `held_for` at once. Equal to the per-step result only when the flag at a period
  depends on nothing after it (the detector declares `causal = True` and the transform is
  one of CAUSAL_TRANSFORMS), nothing was revised, and each series' values became visible
  in period order (Timeline.in_order): then a series evaluated at a step sees exactly its
  final values up to its newest visible period. A history stored late (a second source's
  back years, first ingested after the first source's releases) still qualifies; a
  revision or a gap filled later does not.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Literal

import numpy as np
import pandas as pd

from detectors import apply_transform, evaluate
from monitor.alerts.lifecycle import Alert, Evaluation, Status, Transition, fingerprint, step, transition
from monitor.backtest.drill import along_hierarchy
from monitor.backtest.events import Event
from monitor.backtest.history import NO_VINTAGE, History
from monitor.backtest.timeline import Timeline, Timelines, Window, final_panel
from monitor.config import Route
from monitor.evaluation import evaluate_panel, series_evaluation
from monitor.labels import subject
from monitor.notify.routing import route
from monitor.periods import periods_per_year
from monitor.runtime import CompiledRule
from monitor.store import SeriesInfo

PathChoice = Literal["auto", "fast", "slow"]
# The value at t comes from the same series at t and before (`share` reads another series).
CAUSAL_TRANSFORMS = frozenset({"level", "diff", "mom_pct", "yoy_pct", "log", "rolling_sum",
                               "rolling_mean", "ytd_sum", "from_ytd"})
Progress = Callable[[float], None]
ValueAt = Callable[[str], float]


def is_causal(rule: CompiledRule) -> bool:
    """Whether a flag at period t depends only on data up to t (as the registry declares)."""
    return rule.registered.causal and (
        rule.config.transform.kind in CAUSAL_TRANSFORMS)


@dataclass(frozen=True, slots=True)
class Span:
    """The periods of one series a rule was run over (for rates per series and year)."""

    series: str
    frequency: str
    first: pd.Period
    last: pd.Period

    @property
    def periods(self) -> int:
        return (self.last - self.first).n + 1

    @property
    def years(self) -> float:
        return self.periods / periods_per_year(self.frequency)


@dataclass(frozen=True, slots=True)
class RuleRun:
    """Everything one rule did over the window, plus the data behind it for charts."""

    rule: str
    events: tuple[Event, ...]
    spans: tuple[Span, ...]
    paths: tuple[str, ...]  # "fast" or "per-step", one per frequency group
    levels: Mapping[str, pd.Series]  # final visible values over the window, per series
    values: Mapping[str, pd.Series]  # the same, transformed as the rule sees them
    removed: Mapping[str, int] = field(default_factory=dict)  # alerts each guard removed (see guard_effect)


def replay_rule(rule: CompiledRule, history: History, window: Window, tree: Route,
                path: PathChoice = "auto", progress: Progress | None = None, account: bool = True,
                built: Timelines | None = None) -> RuleRun:
    """Replay one rule over every series it selects, group by group (one frequency each);
    with `account`, also what each of its materiality guards removed. `built` keeps the
    history's timelines for the next replay of the same data."""
    if built is None or built.history is not history:
        built = Timelines(history)
    groups: dict[str, list[str]] = {}
    for sid in sorted(history.infos):
        info = history.infos[sid]
        if rule.config.matches(info.labels):
            groups.setdefault(info.frequency, []).append(sid)
    timelines = [(frequency, built.of(ids, frequency, window)) for frequency, ids in sorted(groups.items())]
    active = [(f, t) for f, t in timelines if t is not None]
    total = sum(t.steps for _, t in active) or 1
    done = 0
    events: list[Event] = []
    spans: list[Span] = []
    paths: list[str] = []
    levels: dict[str, pd.Series] = {}
    values: dict[str, pd.Series] = {}
    for frequency, timeline in active:
        fast = path != "slow" and (path == "fast" or is_causal(rule)) and timeline.in_order
        paths.append("fast" if fast else "per-step")
        steps = _fast_steps if fast else _per_step

        def report(k: int, before: int = done) -> None:
            if progress is not None:
                progress((before + k + 1) / total)

        events += along_hierarchy(rule, tree, timeline, history.infos,
                                  _lifecycle(rule, timeline, history.infos, tree, steps, report))
        done += timeline.steps
        group_spans, group_levels, group_values = _views(rule, timeline, frequency)
        spans += group_spans
        levels.update(group_levels)
        values.update(group_values)
    removed = guard_effect(rule, history, window, tree, path, events, built) if account else {}
    if progress is not None:
        progress(1.0)
    return RuleRun(rule.name, tuple(events), tuple(spans), tuple(paths), levels, values, removed)


def firing_count(events: Sequence[Event]) -> int:
    return sum(event.status == "firing" for event in events)


def guard_effect(rule: CompiledRule, history: History, window: Window, tree: Route, path: PathChoice,
                 events: Sequence[Event], built: Timelines | None = None) -> dict[str, int]:
    """Alerts each guard of the rule removed: the rule replayed with that guard off (the
    others kept) against the rule as configured; with both guards, `all` against neither."""
    config = rule.config
    have = [name for name, value in (("min_level", config.min_level), ("min_change", config.min_change))
            if value is not None]
    if not have:
        return {}
    kept = firing_count(events)
    offs = [(g, {g: None}) for g in have] + ([("all", dict.fromkeys(have))] if len(have) > 1 else [])
    removed = {}
    for name, update in offs:
        loose = replace(rule, config=config.model_copy(update=update))
        run = replay_rule(loose, history, window, tree, path, account=False, built=built)
        removed[name] = firing_count(run.events) - kept
    return removed


Steps = Callable[[CompiledRule, Timeline, Mapping[str, SeriesInfo]],
                 Iterator[tuple[int, list[Evaluation], ValueAt]]]


def _lifecycle(rule: CompiledRule, timeline: Timeline, infos: Mapping[str, SeriesInfo], tree: Route,
               steps: Steps, report: Callable[[int], None]) -> list[Event]:
    """Alert states in memory, stepped exactly as AlertBook.apply steps them."""
    alerts: dict[str, Alert] = {}
    events: list[Event] = []
    moments = _moments(timeline)
    for k, evaluations, value_at in steps(rule, timeline, infos):
        now = moments[k]
        for evaluation in evaluations:
            fp = fingerprint(evaluation.rule, evaluation.series)
            previous = alerts.get(fp)
            nxt = step(previous, evaluation, now)
            if nxt is None:
                alerts.pop(fp, None)
                continue
            change = transition(previous, nxt)
            if change is None:
                continue
            alerts[fp] = nxt
            if _status_changed(change):
                events.append(_event(change, tree, value_at, timeline.index.freq))
        report(k)
    return events


def _status_changed(change: Transition) -> bool:
    """Firing or resolved for the first time in an episode; pending and quiet updates of a
    firing alert are not events."""
    alert, previous = change.alert, change.previous
    if alert.status is Status.PENDING:
        return False
    return previous is None or previous.status is not alert.status or previous.episode != alert.episode


def _event(change: Transition, tree: Route, value_at: ValueAt, freq: object) -> Event:
    alert = change.alert
    receivers = tuple(d.receiver for d in route(tree, alert.labels)) if change.notify else ()
    value = alert.value if alert.status is Status.FIRING else value_at(alert.series)
    return Event(
        rule=alert.rule, series=alert.series, labels=dict(alert.labels),
        period=pd.Period(alert.period, freq=freq), status=alert.status.value, value=value,
        threshold=alert.reference, receivers=receivers, severity=alert.severity,
        since=pd.Period(alert.since_period, freq=freq), episode=alert.episode,
        notify=change.notify, summary=alert.summary)


def _moments(timeline: Timeline) -> list[datetime]:
    """The clock each step runs at: the release it replays, or the end of its period."""
    ends = timeline.periods.end_time
    return [pd.Timestamp(int(stamp), tz=UTC).to_pydatetime() if stamp != NO_VINTAGE
            else datetime(end.year, end.month, end.day, tzinfo=UTC)
            for stamp, end in zip(timeline.as_of.tolist(), ends, strict=True)]


def _per_step(rule: CompiledRule, timeline: Timeline,
              infos: Mapping[str, SeriesInfo]) -> Iterator[tuple[int, list[Evaluation], ValueAt]]:
    """`evaluate_panel` on the panel of the changed series as visible at each step, as the
    store would build it (their columns, from their first to their last period)."""
    for k, current, cols in timeline.walk():
        block = current[: timeline.first_row + k + 1, cols]
        filled = np.flatnonzero(~np.isnan(block).all(axis=1))
        lo, hi = int(filled[0]), int(filled[-1]) + 1
        names = [timeline.names[c] for c in cols]
        panel = pd.DataFrame(block[lo:hi].copy(), index=timeline.index[lo:hi], columns=names)
        evaluations = evaluate_panel(rule, panel, {sid: infos[sid] for sid in names})
        yield k, evaluations, _newest_value(rule, panel)


def _newest_value(rule: CompiledRule, panel: pd.DataFrame) -> ValueAt:
    """The transformed value at a series' newest period, computed only when asked."""

    transform = rule.config.transform

    def value_at(series: str) -> float:
        column = panel[series]
        # A transform of one series reads that column alone; `share` and `mirror_gap` read others.
        source = panel[[series]] if transform.kind in CAUSAL_TRANSFORMS else panel
        values = apply_transform(transform.kind, source, **transform.params())[series]
        return float(values.loc[column.last_valid_index()])

    return value_at


def _fast_steps(rule: CompiledRule, timeline: Timeline,
                infos: Mapping[str, SeriesInfo]) -> Iterator[tuple[int, list[Evaluation], ValueAt]]:
    """One detector pass over the final panel; each step reads its series' newest cells."""
    config = rule.config
    panel = final_panel(timeline)
    offset = len(timeline.index) - len(panel)
    subjects = {sid: subject({**infos[sid].labels, "series": sid}) for sid in timeline.names}
    params = config.transform.params()
    findings = {(f.series, f.period): f for f in evaluate(
        panel, rule=config.name, transform=config.transform.kind, detector=rule.detector,
        severity=config.severity, subjects=subjects, scope="all", transform_params=params,
        materiality=rule.materiality(panel.index.freq))}
    transformed = apply_transform(config.transform.kind, panel, **params).to_numpy(dtype=float)
    valid = ~np.isnan(panel.to_numpy(dtype=float))
    positions = np.arange(len(panel)).reshape(-1, 1)
    newest = np.maximum.accumulate(np.where(valid, positions, -1), axis=0)
    for k, cells in timeline.changes():
        # A changed series' newest visible row: the last row that became visible now (in
        # order, nothing visible before it lies after it), its newest value at or before.
        changed, where = np.unique(timeline.cols[cells], return_inverse=True)
        top = np.full(len(changed), -1, dtype=np.int64)
        np.maximum.at(top, where, timeline.rows[cells] - offset)
        evaluations = []
        values: dict[str, float] = {}
        for col, row in zip(changed.tolist(), top.tolist(), strict=True):
            at = int(newest[row, col]) if row >= 0 else -1
            if at < 0:
                continue  # nothing but gaps so far: per step, the series has no newest period
            sid = timeline.names[col]
            period = panel.index[at]
            values[sid] = float(transformed[at, col])
            evaluations.append(series_evaluation(rule, sid, period, findings.get((sid, period)),
                                           values[sid], subjects[sid], infos[sid]))
        yield k, evaluations, values.__getitem__


def _views(rule: CompiledRule, timeline: Timeline,
           frequency: str) -> tuple[list[Span], dict[str, pd.Series], dict[str, pd.Series]]:
    """Per series: the periods it was run over, and its final values over the window."""
    panel = final_panel(timeline)
    transformed = apply_transform(rule.config.transform.kind, panel, **rule.config.transform.params())
    steps = timeline.periods
    spans, levels, values = [], {}, {}
    for sid in timeline.names:
        column = panel[sid].loc[steps[0]:steps[-1]] if len(panel) else panel[sid]
        present = column.dropna()
        if present.empty:
            continue
        first = max(steps[0], panel[sid].first_valid_index())
        spans.append(Span(sid, frequency, first, present.index[-1]))
        levels[sid] = column
        values[sid] = transformed[sid].loc[column.index]
    return spans, levels, values


def run_rules(rules: Sequence[CompiledRule], history: History, window: Window, tree: Route,
              path: PathChoice = "auto", progress: Progress | None = None) -> list[RuleRun]:
    """Every rule in turn; progress goes from 0 to 1 over all of them."""
    runs = []
    for n, rule in enumerate(rules):
        def within(fraction: float, n: int = n) -> None:
            if progress is not None:
                progress((n + fraction) / len(rules))

        runs.append(replay_rule(rule, history, window, tree, path, within))
    return runs


def sort_events(runs: Sequence[RuleRun]) -> list[Event]:
    """All events in time order, then by rule and series."""
    events = [e for run in runs for e in run.events]
    return sorted(events, key=lambda e: (e.period.start_time, e.rule, e.series, e.status))


def finite(value: float) -> float | None:
    """JSON has no NaN."""
    return value if math.isfinite(value) else None
