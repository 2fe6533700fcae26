"""One cycle of one source: fetch, ingest, evaluate what changed, update alerts, notify.

The numbered steps of the design, in order, and nothing else. Fetching happens outside the
lock (it is slow I/O); ingest and evaluation under it (`detect`); the alert book and delivery
after it (`conclude`), so that the alerts of one source are updated while the next is ingested
and evaluated. A detection waits for the alerts of an earlier one only where they share series.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from detectors import (
    Detector,
    Finding,
    apply_transform,
    build_detector,
    evaluate,
    latest_periods,
)
from detectors.transforms import value_phrase
from detectors.wording import format_level
from monitor.alerts.book import AlertBook
from monitor.alerts.lifecycle import Evaluation
from monitor.config import DetectionConfig, LoadedConfig, Rule
from monitor.executor import Executor, RulePlan, RuleResult, Subjects, build_executor, evaluate_partition
from monitor.notify.pipeline import Dispatcher, Notifier, build_notifiers
from monitor.sources import build_source
from monitor.sources.base import FetchResult, Source, SourceError
from monitor.store import Revision, SeriesInfo, Store
from monitor.store.frames import Incoming

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A config rule with its detector built once."""

    config: Rule
    detector: Detector

    @property
    def name(self) -> str:
        return self.config.name


@dataclass(frozen=True, slots=True)
class NotifierServices:
    """What receivers need from the daemon: the environment (tokens), series history (charts),
    the store (Slack threads across restarts) and the clock."""

    env: Mapping[str, str]
    history: Callable[[str], pd.Series] | None
    state: Store | None
    clock: Callable[[], datetime] | None


@dataclass(frozen=True, slots=True)
class Runtime:
    """Everything built from one config; replaced whole on reload."""

    loaded: LoadedConfig
    sources: Mapping[str, Source]
    rules: Sequence[CompiledRule]
    notifiers: Mapping[str, Notifier]

    @classmethod
    def build(cls, loaded: LoadedConfig, previous: Runtime | None = None,
              services: NotifierServices | None = None) -> Runtime:
        """Build everything a config describes; a source whose config did not change is
        carried over from `previous`, so its state (a replay position) survives a reload.
        Notifiers are built only with `services` (what the daemon provides them); a backtest
        needs none."""
        config = loaded.config
        sources: dict[str, Source] = {
            s.name: build_source(s, loaded, previous.sources.get(s.name) if previous else None)
            for s in config.sources
        }
        rules = []
        for rule in config.rules:
            params = dict(rule.detector)
            kind = str(params.pop("kind"))
            rules.append(CompiledRule(rule, build_detector(kind, params)))
        notifiers = build_notifiers(config.notify, env=services.env, history=services.history,
                                    state=services.state, clock=services.clock) if services else {}
        return cls(loaded, sources, rules, notifiers)

    def frequency_of(self, source: str) -> str:
        for s in self.loaded.config.sources:
            if s.name == source:
                return s.frequency
        raise KeyError(source)


@dataclass(frozen=True, slots=True)
class CycleResult:
    source: str
    ok: bool
    error_reason: str | None = None
    changed_series: int = 0
    new_observations: int = 0
    evaluations: int = 0
    transitions: int = 0
    problems: Sequence[str] = field(default_factory=tuple)
    duration_seconds: float = 0.0
    fetch_seconds: float = 0.0  # of which fetching; the rest is ingest, evaluation, notification
    stages: Mapping[str, float] = field(default_factory=dict)  # seconds per stage (fetch ... notify)


@dataclass(frozen=True, slots=True)
class Fetched:
    """Step 1 of a cycle: what the source returned, or why it returned nothing."""

    source: str
    started: float  # time.monotonic()
    finished: float
    result: FetchResult | None = None
    error: SourceError | None = None
    crash: str | None = None  # the exception type of a bug in the source
    missing: bool = False  # the source was removed by a reload
    prepared: Incoming | None = None  # the frame as ingest compares it (`Store.prepare`)


@dataclass(frozen=True, slots=True)
class Detected:
    """Steps 1 to 4 of a cycle: the evaluations for the alert book, each batch with the time
    it was made at, or (`done`) the cycle's whole outcome."""

    source: str
    fetch_seconds: float
    seconds: float  # steps 2 to 4
    outcome: CycleResult  # its counts and durations are completed by `Engine.conclude`
    done: bool = False  # nothing for the book: a crashed or removed source
    observe: bool = True  # whether the outcome counts as a poll (not for a removed source)
    counts: tuple[int, int, int] = (0, 0, 0)  # changed series, new observations, evaluations
    steps: Sequence[tuple[Sequence[Evaluation], datetime]] = ()
    stages: Mapping[str, float] = field(default_factory=dict)


class CycleObserver:
    """Hooks the engine calls so that metrics stay out of the engine's logic."""

    def poll_finished(self, result: CycleResult) -> None: ...

    def rule_evaluated(self, rule: str, findings: int, seconds: float = 0.0) -> None: ...


class Engine:
    def __init__(self, store: Store, book: AlertBook, dispatcher_factory: Callable[[Runtime], Dispatcher],
                 observer: CycleObserver | None = None) -> None:
        self._store = store
        self._book = book
        self._dispatcher_factory = dispatcher_factory
        self._observer = observer or CycleObserver()
        self._lock = threading.Lock()
        self._drain_lock = threading.Lock()
        self._alerting = threading.Lock()  # the alert book's changes, one batch at a time
        self._retired: set[str] = set()  # rules a reload removed, until a config has them again
        self._pending: dict[int, tuple[frozenset[str], threading.Event]] = {}  # detected, not yet booked
        self._pending_lock = threading.Lock()
        self._executor: Executor | None = None
        self._executor_config: DetectionConfig | None = None

    def close(self) -> None:
        """Stop the detection workers (processes, or the Dask client)."""
        with self._lock:
            if self._executor is not None:
                self._executor.close()
                self._executor = None

    def _executor_for(self, runtime: Runtime) -> Executor:
        """The executor the running config asks for, kept across cycles and reloads."""
        config = runtime.loaded.config.detection
        if self._executor is None or config != self._executor_config:
            if self._executor is not None:
                self._executor.close()
            self._executor, self._executor_config = build_executor(config), config
        return self._executor

    def fetch(self, runtime: Runtime, source_name: str, now: Callable[[], datetime]) -> Fetched:
        """Step 1 alone, outside every lock: a caller polling several sources may fetch the
        next while this one is processed. Failures are kept for `cycle` to report."""
        started = time.monotonic()
        source = runtime.sources.get(source_name)
        if source is None:  # removed by a reload while its job was due
            return Fetched(source_name, started, started, missing=True)
        try:
            result = source.fetch(now=now())  # 1. frame = source.fetch()
        except SourceError as exc:
            return Fetched(source_name, started, time.monotonic(), error=exc)
        except Exception as exc:  # a bug in one source must not stop the daemon
            log.exception("source crashed source=%s", source_name)
            return Fetched(source_name, started, time.monotonic(), crash=type(exc).__name__)
        prepared = None
        # The part of ingest that needs no store, here, off the processing thread; should it
        # fail, ingest prepares the frame again and reports what is wrong.
        with contextlib.suppress(Exception):
            if not result.frame.empty:
                prepared = self._store.prepare(result.frame, runtime.frequency_of(source_name))
        return Fetched(source_name, started, time.monotonic(), result, prepared=prepared)

    def cycle(self, runtime: Runtime, source_name: str, now: Callable[[], datetime],
              fetched: Fetched | None = None) -> CycleResult:
        """One cycle of one source; `fetched` when step 1 already ran (`fetch`). Its duration
        is the fetch's plus this call's: a fetch done ahead does not count its wait. Ingest to
        alert book is `detect` then `conclude`: a concurrent poll of another source that has
        series in common waits for this one's alerts before it evaluates them."""
        fetched = fetched or self.fetch(runtime, source_name, now)
        return self.conclude(runtime, self.detect(runtime, fetched, now), now)

    def detect(self, runtime: Runtime, fetched: Fetched, now: Callable[[], datetime]) -> Detected:
        """Steps 2 to 4 of a fetched source, under the store lock: what its alerts are to be
        given. Series that an earlier detection has evaluations for are evaluated only once
        those have reached the alert book (its `conclude`, or `release`), so a caller may
        update the alerts of one source on another thread while the next is detected. Every
        detection must be concluded or released."""
        with self._lock:
            detected = self._detect(runtime, fetched, now)
            series = frozenset(e.series for evaluations, _ in detected.steps for e in evaluations)
            if series:
                with self._pending_lock:
                    self._pending[id(detected)] = (series, threading.Event())
            return detected

    def conclude(self, runtime: Runtime, detected: Detected, now: Callable[[], datetime]) -> CycleResult:
        """Steps 5 to 7 of a detected source: the alert book, then the outbox."""
        try:
            applied = self._apply(detected.steps)
        finally:
            self.release(detected)
        return self._deliver(runtime, detected, applied, now)

    def release(self, detected: Detected) -> None:
        """Detections waiting for this one's alerts may go on (it was concluded, or dropped)."""
        with self._pending_lock:
            held = self._pending.pop(id(detected), None)
        if held is not None:
            held[1].set()

    def _settle(self, series: Collection[str]) -> None:
        """Wait until the alerts of earlier detections that share these series are booked."""
        with self._pending_lock:
            waits = [event for names, event in self._pending.values() if not names.isdisjoint(series)]
        for event in waits:
            event.wait()

    def _detect(self, runtime: Runtime, fetched: Fetched, now: Callable[[], datetime]) -> Detected:
        began = time.monotonic()
        name = fetched.source
        fetch_seconds = fetched.finished - fetched.started
        if fetched.missing:  # removed by a reload while its job was due
            return Detected(name, fetch_seconds, 0.0, CycleResult(name, True), done=True, observe=False)
        if fetched.error is None and fetched.result is None:  # a bug in the source: reported as is
            crashed = CycleResult(name, False, fetched.crash, duration_seconds=fetch_seconds)
            return Detected(name, fetch_seconds, 0.0, crashed, done=True)
        self._retired.difference_update(rule.name for rule in runtime.rules)  # (back) in the config
        stages: dict[str, float] = {"fetch": fetch_seconds}
        counts, steps = (0, 0, 0), []
        if fetched.error is not None:
            exc = fetched.error
            log.error("source failed source=%s reason=%s error=%s", name, exc.reason, exc)
            outcome = CycleResult(name, False, exc.reason)
        else:
            assert fetched.result is not None
            problems = tuple(fetched.result.problems)
            for problem in problems:
                log.warning("skipped row source=%s problem=%s", name, problem)
            at = now()
            counts, evaluations = self._process(runtime, name, fetched.result, fetched.prepared, at, stages)
            outcome = CycleResult(name, True, "rows" if problems else None, problems=problems)
            steps.append((evaluations, at))
        clock_rules = time.monotonic()
        steps += self._clock_rule_evaluations(runtime, name, now)
        stages["alerts"] = time.monotonic() - clock_rules
        return Detected(name, fetch_seconds, time.monotonic() - began, outcome, counts=counts, steps=steps,
                        stages=stages)

    def _apply(self, steps: Sequence[tuple[Sequence[Evaluation], datetime]]) -> tuple[int, float]:
        """Steps 5 and 6 for batches of evaluations: transitions made, and the seconds it took."""
        if not any(evaluations for evaluations, _ in steps):
            return 0, 0.0  # nothing to wait for the alert book for
        began = time.monotonic()
        transitions = 0
        with self._alerting:
            for evaluations, at in steps:
                if evaluations:
                    kept = [e for e in evaluations if e.rule not in self._retired]  # a reload removed it
                    transitions += len(self._book.apply(kept, at))
        return transitions, time.monotonic() - began

    def _deliver(self, runtime: Runtime, detected: Detected, applied: tuple[int, float],
                 now: Callable[[], datetime]) -> CycleResult:
        """Step 7, and the cycle's outcome."""
        outcome = detected.outcome
        if detected.done:
            return self._finish(outcome) if detected.observe else outcome
        transitions, alerts = applied
        notify = time.monotonic()
        self.drain(runtime, now)  # 7. outside the store lock: a slow receiver must not stall polls
        notified = time.monotonic() - notify
        seconds = detected.fetch_seconds + detected.seconds + alerts + notified
        if not outcome.ok:
            return self._finish(replace(outcome, duration_seconds=seconds))
        stages = dict(detected.stages)
        stages["alerts"] = stages.get("alerts", 0.0) + alerts
        stages["notify"] = notified
        changed, new_observations, evaluated = detected.counts
        return self._finish(replace(
            outcome, changed_series=changed, new_observations=new_observations, evaluations=evaluated,
            transitions=transitions, duration_seconds=seconds, fetch_seconds=detected.fetch_seconds,
            stages=stages))

    def _process(self, runtime: Runtime, source_name: str, fetched: FetchResult, prepared: Incoming | None,
                 now: datetime, stages: dict[str, float]) -> tuple[tuple[int, int, int], list[Evaluation]]:
        """Steps 2 to 4; adds the seconds of ingest and evaluation to `stages`."""
        started = time.monotonic()
        ingest = self._store.ingest(fetched.frame, now, runtime.frequency_of(source_name), prepared)  # 2.
        stages["ingest"] = time.monotonic() - started
        for message in ingest.conflicts:
            log.error("refused rows source=%s problem=%s", source_name, message)
        if not ingest.changed:
            return (0, 0, 0), []
        log.info("ingested source=%s changed_series=%d observations=%d revisions=%d",
                 source_name, len(ingest.changed), ingest.new_observations, ingest.revisions)
        infos = self._store.series(ingest.changed)
        revised: dict[str, list[Revision]] = {}
        for revision in ingest.revised:
            revised.setdefault(revision.series, []).append(revision)
        rules = [r for r in runtime.rules if not _needs_now(r)]  # clock rules: _clock_rule_evaluations
        self._settle(infos.keys())  # not counted as evaluation: it waits for another source's alerts
        evaluated = time.monotonic()
        evaluations = self._evaluate(runtime, rules, infos, revised)  # 3. and 4.
        stages["evaluate"] = time.monotonic() - evaluated
        return (len(ingest.changed), ingest.new_observations, len(evaluations)), evaluations

    def check_clock_rules(self, runtime: Runtime, source_name: str, now: Callable[[], datetime]) -> None:
        """Rules that depend on the date (staleness), over all series of a source, now."""
        with self._lock:
            self._apply(self._clock_rule_evaluations(runtime, source_name, now))

    def _clock_rule_evaluations(self, runtime: Runtime, source_name: str,
                                now: Callable[[], datetime]) -> list[tuple[list[Evaluation], datetime]]:
        """Rules that depend on the date (staleness) are evaluated on every poll of a source,
        over all of its series, because their point is data that did not arrive."""
        rules = [r for r in runtime.rules if _needs_now(r)]
        if not rules:
            return []
        at = now()
        infos = {sid: info for sid, info in self._store.series().items()
                 if info.labels.get("source") == source_name}
        self._settle(infos.keys())
        return [(self._evaluate(runtime, rules, infos, {}, at), at)]

    def _evaluate(self, runtime: Runtime, rules: Sequence[CompiledRule], infos: Mapping[str, SeriesInfo],
                  revised: Mapping[str, Sequence[Revision]], now: datetime | None = None) -> list[Evaluation]:
        """Each rule over the panel of the series it selects, per frequency (with the parents
        a `share` needs as context). Rules over the same panel share one executor pass."""
        groups: dict[tuple[str, tuple[str, ...]], list[tuple[CompiledRule, frozenset[str]]]] = {}
        everything = dict(infos)
        for rule in rules:
            by_frequency: dict[str, list[str]] = {}
            selected_infos = (infos.values() if not rule.config.select  # `{}` selects all
                              else (info for info in infos.values() if rule.config.matches(info.labels)))
            for info in selected_infos:
                by_frequency.setdefault(info.frequency, []).append(info.id)
            parents = _parent_ids(rule)
            for frequency, selected in by_frequency.items():
                own = frozenset(selected)
                context = self._store.series(parents - own) if parents else {}  # `share` needs its parents
                everything.update(context)
                groups.setdefault((frequency, tuple(sorted(own | set(context)))), []).append((rule, own))
        found = dict.fromkeys((r.name for r in rules), 0)
        seconds = dict.fromkeys((r.name for r in rules), 0.0)
        per_rule: dict[str, list[Evaluation]] = {r.name: [] for r in rules}
        for (frequency, ids), members in groups.items():
            panel = self._store.panel(ids, frequency)
            if panel.shape[1]:
                for name, done in self._evaluate_panel(runtime, members, panel, everything, revised, now,
                                                       found, seconds).items():
                    per_rule[name] += done
        for name, count in found.items():
            self._observer.rule_evaluated(name, count, seconds[name])
        return [e for rule in rules for e in per_rule[rule.name]]  # in config order, as always

    def _evaluate_panel(self, runtime: Runtime, members: Sequence[tuple[CompiledRule, frozenset[str]]],
                        panel: pd.DataFrame, infos: Mapping[str, SeriesInfo],
                        revised: Mapping[str, Sequence[Revision]], now: datetime | None,
                        found: dict[str, int], seconds: dict[str, float]) -> dict[str, list[Evaluation]]:
        """The rules of one panel, each reporting on its own series; counts findings and
        detection seconds per rule."""
        active = self._book.active_series()
        labels = _LabelsOf(infos)
        columns = set(panel.columns.tolist())
        done: dict[str, list[Evaluation]] = {}
        plain = []
        for rule, own in members:
            watch = frozenset(active.get(rule.name, set()) & own)
            if not getattr(rule.detector, "needs_previous", False):
                plain.append((rule, own, RulePlan(rule.name, rule.config.transform.kind,
                                                  rule.config.transform.params(), rule.detector,
                                                  rule.config.severity, watch)))
                continue
            try:
                started = time.monotonic()
                mine = _evaluate_revisions(rule, panel, infos, revised, Subjects(labels), watch)
                seconds[rule.name] += time.monotonic() - started
            except Exception:  # one bad rule must not stop the others
                log.exception("rule failed rule=%s series=%d", rule.name, len(own))
                continue
            done[rule.name] = [e for e in mine if e.series in own]
            found[rule.name] += sum(e.finding is not None for e in done[rule.name])
        plans = [p for _, _, p in plain]
        try:
            results = self._executor_for(runtime).run(panel, plans, labels, now)
        except Exception:  # an unreachable cluster must not lose this fetch's alerts
            log.exception("detection executor failed; evaluating in-process series=%d", panel.shape[1])
            results = evaluate_partition(panel, plans, labels, now)
        for (rule, own, _), result in zip(plain, results, strict=True):
            seconds[rule.name] += result.seconds
            if result.error is not None:
                log.error("rule failed rule=%s series=%d error=%s", rule.name, len(own), result.error)
                continue
            if not own >= columns:  # context columns report nothing
                result = RuleResult([f for f in result.findings if f.series in own],
                                    {sid: v for sid, v in result.newest.items() if sid in own})
            found[rule.name] += len(result.findings)
            done[rule.name] = rule_evaluations(rule, result, infos, revised, Subjects(labels))
        return done

    def _finish(self, result: CycleResult) -> CycleResult:
        self._observer.poll_finished(result)
        return result

    def retire_rules(self, names: Sequence[str], runtime: Runtime, now: Callable[[], datetime]) -> None:
        """Resolve the alerts of rules a reload removed, saying why, and notify."""
        if not names:
            return
        with self._lock, self._alerting:
            self._book.retire(names, now())
            self._retired.update(names)  # evaluations already made for them are dropped
        self.drain(runtime, now)

    def drain(self, runtime: Runtime, now: Callable[[], datetime]) -> None:
        """Deliver the outbox; one drain at a time, so nothing is sent twice, and apart from
        the store lock, so a slow or dead receiver never delays polling."""
        with self._drain_lock:
            self._dispatcher_factory(runtime).drain(now)


def _parent_ids(rule: CompiledRule) -> set[str]:
    parent = rule.config.transform.parent
    if parent is None:
        return set()
    return {parent} if isinstance(parent, str) else set(parent.values())


def _needs_now(rule: CompiledRule) -> bool:
    return bool(getattr(rule.detector, "needs_now", False))


class _LabelsOf(Mapping[str, Mapping[str, str]]):
    """Series id -> labels, read from the infos at hand (no copy of 100,000 dicts)."""

    def __init__(self, infos: Mapping[str, SeriesInfo]) -> None:
        self._infos = infos

    def __getitem__(self, series: str) -> Mapping[str, str]:
        return self._infos[series].labels

    def __iter__(self) -> Iterator[str]:
        return iter(self._infos)

    def __len__(self) -> int:
        return len(self._infos)


def rule_evaluations(rule: CompiledRule, result: RuleResult, infos: Mapping[str, SeriesInfo],
                     revised: Mapping[str, Sequence[Revision]],
                     subjects: Mapping[str, str]) -> list[Evaluation]:
    """Evaluations only where the book can change: a finding, or an active alert (watched)
    that may resolve. Every other series would step from no alert to no alert."""
    params = rule.config.transform.params()
    out = [series_evaluation(rule, f.series, f.period, f, f.value, subjects[f.series], infos[f.series],
                             revised.get(f.series, ()), params) for f in result.findings]
    out += [series_evaluation(rule, sid, period, None, value, subjects[sid], infos[sid], revised.get(sid, ()),
                              params)
            for sid, (period, value) in sorted(result.newest.items())]
    return out


def evaluate_panel(rule: CompiledRule, panel: pd.DataFrame, infos: Mapping[str, SeriesInfo],
                   revised: Mapping[str, Sequence[Revision]] | None = None,
                   now: datetime | None = None) -> list[Evaluation]:
    """Pure: one rule over one panel -> one Evaluation per series with data. `revised` holds
    the values this fetch revised, per series: revision rules compare the panel before and
    after them, and a condition that stops holding because of one says so."""
    subjects = Subjects(_LabelsOf(infos))
    config = rule.config
    revised = revised or {}
    if getattr(rule.detector, "needs_previous", False):
        return _evaluate_revisions(rule, panel, infos, revised, subjects)
    transformed = apply_transform(config.transform.kind, panel, **config.transform.params())
    findings = {f.series: f for f in evaluate(
        panel, rule=config.name, transform=config.transform.kind, detector=rule.detector,
        severity=config.severity, subjects=subjects, scope="latest", now=now,
        transform_params=config.transform.params(), transformed=transformed)}
    return [series_evaluation(rule, sid, period, findings.get(sid), float(transformed.at[period, sid]),
                              subjects[sid], infos[sid], revised.get(sid, ()))
            for sid, period in latest_periods(panel).items()]


def _evaluate_revisions(rule: CompiledRule, panel: pd.DataFrame, infos: Mapping[str, SeriesInfo],
                        revised: Mapping[str, Sequence[Revision]], subjects: Mapping[str, str],
                        watch: Collection[str] | None = None) -> list[Evaluation]:
    """The panel as it stood before this fetch (revised cells put back) against the panel now.
    With `watch`, only series with a finding or in `watch` are evaluated (see
    `rule_evaluations`); with no revision in the panel the two are equal and nothing is found."""
    rows, cols, values = [], [], []
    for sid, items in revised.items():
        if sid not in panel.columns:
            continue
        col = panel.columns.get_loc(sid)
        for item in items:
            row = panel.index.get_indexer([pd.Period(item.period, freq=panel.index.freq)])[0]
            if row >= 0:
                rows.append(row)
                cols.append(col)
                values.append(item.before)
    findings: dict[str, Finding] = {}
    if rows or watch is None:
        array = panel.to_numpy(dtype=float, copy=True)
        array[rows, cols] = values
        before = pd.DataFrame(array, index=panel.index, columns=panel.columns)
        config = rule.config
        detector: Any = rule.detector
        findings = {f.series: f for f in detector.find(
            before, panel, rule=config.name, transform=config.transform.kind, severity=config.severity,
            subjects=subjects, transform_params=config.transform.params())}
    wanted = panel if watch is None else panel[sorted(set(findings) | (set(watch) & set(panel.columns)))]
    return [series_evaluation(rule, sid, period, findings.get(sid), float(panel.at[period, sid]),
                              subjects[sid], infos[sid])
            for sid, period in latest_periods(wanted).items()]


def series_evaluation(rule: CompiledRule, sid: str, period: pd.Period, finding: Finding | None,
                      value: float, subject_text: str, info: SeriesInfo,
                      revised: Sequence[Revision] = (),
                      transform_params: Mapping[str, Any] | None = None) -> Evaluation:
    """What one rule concluded about one series at `period` (its newest), with the sentence
    to send if a firing alert resolves there (naming the revision that caused it, if any).
    Shared with the backtest; `transform_params` are the rule's, from a caller that
    evaluates many series."""
    config = rule.config
    kind = config.transform.kind
    params = config.transform.params() if transform_params is None else transform_params
    phrase = f"{subject_text} " + value_phrase(value, kind, period.freq, **params)
    resolution = (f"{phrase} in {period}; {config.name} no longer holds."
                  if np.isfinite(value) else
                  f"{subject_text} has no {kind} value for {period}; {config.name} no longer holds.")
    if revised:
        changes = "; ".join(f"{r.period} from {format_level(r.before)} to {format_level(r.after)}"
                            for r in revised[:3])
        more = f" and {len(revised) - 3} more" if len(revised) > 3 else ""
        resolution = f"After a revision ({changes}{more}), {resolution[0].lower()}{resolution[1:]}"
        resolution = resolution.replace(f"({changes}{more}), {subject_text[0].lower()}",
                                        f"({changes}{more}), {subject_text[0]}", 1)
    labels = {**info.labels, **config.labels, "alertname": config.name, "series": sid,
              "severity": config.severity}
    return Evaluation(rule=config.name, series=sid, labels=labels, severity=config.severity,
                      for_periods=config.for_, period=str(period), finding=finding,
                      resolution=resolution, keep_firing_for=config.keep_firing_for)
