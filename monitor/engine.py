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
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from detectors import Needs
from monitor.alerts.book import AlertBook
from monitor.alerts.lifecycle import Evaluation
from monitor.config import DetectionConfig
from monitor.evaluation import RuleEvaluator
from monitor.executor import Executor, build_executor
from monitor.notify.pipeline import Dispatcher
from monitor.runtime import CompiledRule, Runtime
from monitor.sources.base import FetchResult, SourceError
from monitor.store import Revision, SeriesInfo, Store
from monitor.store.frames import Incoming

log = logging.getLogger(__name__)


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
        self._unsure: set[str] = set()  # sources whose stored values may never have been evaluated
        self._pending: dict[int, tuple[frozenset[str], threading.Event]] = {}  # detected, not yet booked
        self._pending_lock = threading.Lock()
        self._starting = 0  # detections under way (their figures may be stored already)
        self._in_flight: set[int] = set()  # detections done, not yet concluded or released
        self._generation = 0  # detections begun or ended so far
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

    def evaluate_everything_next(self, sources: Collection[str]) -> None:
        """The next poll of each source evaluates all its series, changed or not: a process that
        died after committing a fetch but before its alerts (this one, restarted, or another
        replica before this one took over) left values that no poll will see change again.
        Rules over revisions are left out: a revision is seen only by the fetch that made it."""
        with self._pending_lock:
            self._unsure.update(sources)

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
            with self._pending_lock:
                self._starting += 1
                self._generation += 1
            try:
                detected = self._detect(runtime, fetched, now)
            except BaseException:
                with self._pending_lock:
                    self._starting -= 1
                    self._generation += 1
                raise
            series = frozenset(e.series for evaluations, _ in detected.steps for e in evaluations)
            with self._pending_lock:  # in flight throughout: under way, then detected
                self._starting -= 1
                self._in_flight.add(id(detected))
                if series:
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
            if id(detected) in self._in_flight:
                self._in_flight.discard(id(detected))
                self._generation += 1
        if held is not None:
            held[1].set()

    def detections(self) -> tuple[int, int]:
        """(detections begun or ended so far, detections in flight). A drain that reads the
        same pair with none in flight before and after it reads the store and the alert book
        saw no figure stored whose alerts were not booked yet: a parent's figure it sees is
        decided (firing or not). Folding along a hierarchy waits otherwise."""
        with self._pending_lock:
            return self._generation, self._starting + len(self._in_flight)

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
        with self._pending_lock:
            unsure = source_name in self._unsure
            self._unsure.discard(source_name)
        unevaluated: frozenset[str] = frozenset()
        if unsure:
            unevaluated = frozenset(sid for sid, info in self._store.series().items()
                                    if info.labels.get("source") == source_name) - ingest.changed
        if not ingest.changed and not unevaluated:
            return (0, 0, 0), []
        log.info("ingested source=%s changed_series=%d observations=%d revisions=%d",
                 source_name, len(ingest.changed), ingest.new_observations, ingest.revisions)
        infos = self._store.series(ingest.changed)
        revised: dict[str, list[Revision]] = {}
        for revision in ingest.revised:
            revised.setdefault(revision.series, []).append(revision)
        rules = [r for r in runtime.rules if not r.needs(Needs.CLOCK)]  # clock rules: _clock_rule_evaluations
        self._settle(infos.keys())  # not counted as evaluation: it waits for another source's alerts
        evaluated = time.monotonic()
        evaluations = self._evaluate(runtime, rules, infos, revised) if infos else []  # 3. and 4.
        if unevaluated:
            rest = self._store.series(unevaluated)
            self._settle(rest.keys())
            current = [r for r in rules if not r.needs(Needs.PREVIOUS)]
            evaluations += self._evaluate(runtime, current, rest, {})
        stages["evaluate"] = time.monotonic() - evaluated
        return (len(ingest.changed), ingest.new_observations, len(evaluations)), evaluations

    def _clock_rule_evaluations(self, runtime: Runtime, source_name: str,
                                now: Callable[[], datetime]) -> list[tuple[list[Evaluation], datetime]]:
        """Rules that depend on the date (staleness) are evaluated on every poll of a source,
        over all of its series, because their point is data that did not arrive."""
        rules = [r for r in runtime.rules if r.needs(Needs.CLOCK)]
        if not rules:
            return []
        at = now()
        infos = {sid: info for sid, info in self._store.series().items()
                 if info.labels.get("source") == source_name}
        self._settle(infos.keys())
        return [(self._evaluate(runtime, rules, infos, {}, at), at)]

    def _evaluate(self, runtime: Runtime, rules: Sequence[CompiledRule], infos: Mapping[str, SeriesInfo],
                  revised: Mapping[str, Sequence[Revision]], now: datetime | None = None) -> list[Evaluation]:
        """Steps 3 and 4: the rules over the panels of these series (`monitor/evaluation.py`)."""
        evaluator = RuleEvaluator(self._store, self._book.active_series, lambda: self._executor_for(runtime),
                                  self._observer)
        return evaluator.evaluate(rules, infos, revised, now)

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
