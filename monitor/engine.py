"""One cycle of one source: fetch, ingest, evaluate what changed, update alerts, notify.

The numbered steps of the design, in order, and nothing else. Fetching happens outside the
lock (it is slow I/O); everything that touches the store happens under it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
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
from monitor.config import LoadedConfig, Rule
from monitor.labels import subject
from monitor.notify.pipeline import Dispatcher, Notifier, build_notifiers
from monitor.sources import build_source
from monitor.sources.base import FetchResult, Source, SourceError
from monitor.store import Revision, SeriesInfo, Store

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


class CycleObserver:
    """Hooks the engine calls so that metrics stay out of the engine's logic."""

    def poll_finished(self, result: CycleResult) -> None: ...

    def rule_evaluated(self, rule: str, findings: int) -> None: ...


class Engine:
    def __init__(self, store: Store, book: AlertBook, dispatcher_factory: Callable[[Runtime], Dispatcher],
                 observer: CycleObserver | None = None) -> None:
        self._store = store
        self._book = book
        self._dispatcher_factory = dispatcher_factory
        self._observer = observer or CycleObserver()
        self._lock = threading.Lock()
        self._drain_lock = threading.Lock()

    def cycle(self, runtime: Runtime, source_name: str, now: Callable[[], datetime]) -> CycleResult:
        started = time.monotonic()
        source = runtime.sources.get(source_name)
        if source is None:  # removed by a reload while its job was due
            return CycleResult(source_name, True)
        try:
            fetched = source.fetch(now=now())  # 1. frame = source.fetch()
            fetched_at = time.monotonic()
        except SourceError as exc:
            log.error("source failed source=%s reason=%s error=%s", source_name, exc.reason, exc)
            self.check_clock_rules(runtime, source_name, now)
            self.drain(runtime, now)
            return self._finish(CycleResult(source_name, False, exc.reason,
                                            duration_seconds=time.monotonic() - started))
        except Exception as exc:  # a bug in one source must not stop the daemon
            log.exception("source crashed source=%s", source_name)
            return self._finish(CycleResult(source_name, False, type(exc).__name__,
                                            duration_seconds=time.monotonic() - started))
        for problem in fetched.problems:
            log.warning("skipped row source=%s problem=%s", source_name, problem)
        with self._lock:
            result = self._process(runtime, source_name, fetched, now())
        self.check_clock_rules(runtime, source_name, now)
        self.drain(runtime, now)  # 7. outside the store lock: a slow receiver must not stall polls
        return self._finish(CycleResult(
            source_name, True, "rows" if fetched.problems else None, result[0], result[1],
            result[2], result[3], tuple(fetched.problems), time.monotonic() - started,
            fetched_at - started))

    def _process(self, runtime: Runtime, source_name: str, fetched: FetchResult,
                 now: datetime) -> tuple[int, int, int, int]:
        ingest = self._store.ingest(fetched.frame, now, runtime.frequency_of(source_name))  # 2.
        for message in ingest.conflicts:
            log.error("refused rows source=%s problem=%s", source_name, message)
        if not ingest.changed:
            return 0, 0, 0, 0
        log.info("ingested source=%s changed_series=%d observations=%d revisions=%d",
                 source_name, len(ingest.changed), ingest.new_observations, ingest.revisions)
        infos = self._store.series(ingest.changed)
        revised: dict[str, list[Revision]] = {}
        for revision in ingest.revised:
            revised.setdefault(revision.series, []).append(revision)
        evaluations = []
        for rule in runtime.rules:
            if not _needs_now(rule):  # clock rules run in check_clock_rules, on every poll
                evaluations += self._evaluate_rule(rule, infos, revised)  # 3. and 4.
        transitions = self._book.apply(evaluations, now)  # 5. and 6.
        return len(ingest.changed), ingest.new_observations, len(evaluations), len(transitions)

    def check_clock_rules(self, runtime: Runtime, source_name: str, now: Callable[[], datetime]) -> None:
        """Rules that depend on the date (staleness) are evaluated on every poll of a source,
        over all of its series, because their point is data that did not arrive."""
        rules = [r for r in runtime.rules if _needs_now(r)]
        if not rules:
            return
        with self._lock:
            at = now()
            infos = {sid: info for sid, info in self._store.series().items()
                     if info.labels.get("source") == source_name}
            evaluations: list[Evaluation] = []
            for rule in rules:
                evaluations += self._evaluate_rule(rule, infos, {}, at)
            self._book.apply(evaluations, at)

    def _evaluate_rule(self, rule: CompiledRule, infos: Mapping[str, SeriesInfo],
                       revised: Mapping[str, Sequence[Revision]],
                       now: datetime | None = None) -> list[Evaluation]:
        selected = [info for info in infos.values() if rule.config.matches(info.labels)]
        evaluations: list[Evaluation] = []
        by_frequency: dict[str, list[SeriesInfo]] = {}
        for info in selected:
            by_frequency.setdefault(info.frequency, []).append(info)
        parents = _parent_ids(rule)
        for frequency, members in by_frequency.items():
            ids = {m.id for m in members}
            context = self._store.series(parents - ids) if parents else {}  # `share` needs its parents
            panel = self._store.panel(sorted(ids | set(context)), frequency)
            try:
                found = evaluate_panel(rule, panel, {m.id: m for m in members} | context, revised, now)
                evaluations += [e for e in found if e.series in ids]
            except Exception:  # one bad rule or series must not stop the others
                log.exception("rule failed rule=%s series=%d", rule.name, len(members))
        self._observer.rule_evaluated(rule.name, sum(e.finding is not None for e in evaluations))
        return evaluations

    def _finish(self, result: CycleResult) -> CycleResult:
        self._observer.poll_finished(result)
        return result

    def retire_rules(self, names: Sequence[str], runtime: Runtime, now: Callable[[], datetime]) -> None:
        """Resolve the alerts of rules a reload removed, saying why, and notify."""
        if not names:
            return
        with self._lock:
            self._book.retire(names, now())
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


def evaluate_panel(rule: CompiledRule, panel: pd.DataFrame, infos: Mapping[str, SeriesInfo],
                   revised: Mapping[str, Sequence[Revision]] | None = None,
                   now: datetime | None = None) -> list[Evaluation]:
    """Pure: one rule over one panel -> one Evaluation per series with data. `revised` holds
    the values this fetch revised, per series: revision rules compare the panel before and
    after them, and a condition that stops holding because of one says so."""
    subjects = {sid: subject({**info.labels, "series": sid}) for sid, info in infos.items()}
    config = rule.config
    revised = revised or {}
    if getattr(rule.detector, "needs_previous", False):
        return _evaluate_revisions(rule, panel, infos, revised, subjects)
    findings = {f.series: f for f in evaluate(
        panel, rule=config.name, transform=config.transform.kind, detector=rule.detector,
        severity=config.severity, subjects=subjects, scope="latest", now=now,
        transform_params=config.transform.params())}
    transformed = apply_transform(config.transform.kind, panel, **config.transform.params())
    return [series_evaluation(rule, sid, period, findings.get(sid), float(transformed.at[period, sid]),
                              subjects[sid], infos[sid], revised.get(sid, ()))
            for sid, period in latest_periods(panel).items()]


def _evaluate_revisions(rule: CompiledRule, panel: pd.DataFrame, infos: Mapping[str, SeriesInfo],
                        revised: Mapping[str, Sequence[Revision]],
                        subjects: Mapping[str, str]) -> list[Evaluation]:
    """The panel as it stood before this fetch (revised cells put back) against the panel now."""
    before = panel.copy()
    for sid, items in revised.items():
        if sid in before.columns:
            for item in items:
                before.loc[pd.Period(item.period, freq=panel.index.freq), sid] = item.before
    config = rule.config
    detector: Any = rule.detector
    findings = {f.series: f for f in detector.find(
        before, panel, rule=config.name, transform=config.transform.kind, severity=config.severity,
        subjects=subjects, transform_params=config.transform.params())}
    return [series_evaluation(rule, sid, period, findings.get(sid), float(panel.at[period, sid]),
                              subjects[sid], infos[sid])
            for sid, period in latest_periods(panel).items()]


def series_evaluation(rule: CompiledRule, sid: str, period: pd.Period, finding: Finding | None,
                      value: float, subject_text: str, info: SeriesInfo,
                      revised: Sequence[Revision] = ()) -> Evaluation:
    """What one rule concluded about one series at `period` (its newest), with the sentence
    to send if a firing alert resolves there (naming the revision that caused it, if any).
    Shared with the backtest."""
    config = rule.config
    kind = config.transform.kind
    phrase = f"{subject_text} " + value_phrase(value, kind, period.freq, **config.transform.params())
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
