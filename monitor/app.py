"""The daemon's lifecycle: start, run cycles, report health, stop. Never touches signals."""

from __future__ import annotations

import gc
import hashlib
import logging
import os
import socket
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry

from monitor.alerts.book import AlertBook
from monitor.alerts.lifecycle import Status
from monitor.config import (
    ConfigError,
    ConfigProblem,
    LoadedConfig,
    load_config,
    read_capped,
)
from monitor.config.web import WebConfig
from monitor.engine import CycleResult, Engine, Fetched
from monitor.exposition import metrics_app
from monitor.health import health_window, leadership, liveness, readiness
from monitor.listener import Listener, Probes
from monitor.metrics import Metrics, SeriesExport, StateCollector, build_registry
from monitor.notify.outage import DeliveryLog
from monitor.notify.pipeline import Dispatcher
from monitor.replica import Replica, ReplicaStatus
from monitor.runtime import NotifierServices, Runtime
from monitor.scheduler import SourceScheduler, SourceTiming, in_release_window, source_timings
from monitor.store import Store

log = logging.getLogger(__name__)

DRAIN_INTERVAL = timedelta(seconds=15)
CONFIG_WATCH_INTERVAL = timedelta(seconds=5)


def utc_now() -> datetime:
    return datetime.now(UTC)


def _digest(path: Path) -> str:
    """Content hash of the config file; "" when it cannot be read (removed, unreadable, too
    large: read no further than the size a config may have)."""
    try:
        return hashlib.sha256(read_capped(path)).hexdigest()
    except ConfigError:
        return ""


def _reason(exc: BaseException) -> str:
    """One line for an unexpected error: its type and the start of its message."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__


GC_YOUNG_THRESHOLD = 50_000  # allocations between young collections (Python's default: 700)


def tune_gc() -> None:
    """Collect cyclic garbage less often. The daemon keeps hundreds of thousands of long-lived
    objects (alerts, series, labels) and a large cycle allocates millions more; at Python's
    default thresholds the collector rescans the old ones hundreds of times per cycle (1.9 s
    of a 100,000-series cycle, measured), at these a few times (0.2 s)."""
    young, middle, old = gc.get_threshold()
    gc.set_threshold(max(GC_YOUNG_THRESHOLD, young), max(middle, 20), old)


@dataclass
class _Progress:
    started_at: datetime
    last_cycle_at: datetime | None = None
    polled: set[str] | None = None


class App:
    """Owns the store, the alert book, the runtime built from config and the scheduler."""

    def __init__(self, loaded: LoadedConfig, listen: str | None = None,
                 clock: Callable[[], datetime] = utc_now, api_token: str | None = None,
                 env: Mapping[str, str] | None = None, web: WebConfig | None = None) -> None:
        """Raises ConfigError when the config cannot be built (e.g. a Slack receiver whose
        token is not in `env`)."""
        tune_gc()
        self._clock = clock
        self._api_token = api_token
        self._web = web  # TLS and basic auth of the listener (monitor/websecurity.py)
        self.store = Store(loaded.store_url)
        self._services = NotifierServices(env=dict(env or {}), history=self.store.series_history,
                                          state=self.store, clock=clock)
        try:
            self.runtime = Runtime.build(loaded, services=self._services)
        except Exception:
            self.store.close()
            raise
        self.book = AlertBook(self.store)
        self._base_registry = build_registry()  # instruments; the state is read at scrape time
        self.metrics = Metrics(self._base_registry)
        self.metrics.set_clock(clock)
        self._state = StateCollector(self.store, self.book, clock, self._series_export, self._timings)
        self.registry = CollectorRegistry()  # everything, for any prometheus_client consumer
        self.registry.register(self._base_registry)
        self.registry.register(self._state)
        self._delivery_log = DeliveryLog()
        self.engine = Engine(self.store, self.book, self._dispatcher, observer=self.metrics)
        self._listen = listen or loaded.config.http.listen
        self._scheduler: SourceScheduler | None = None
        self.listener: Listener | None = None  # once started
        self._progress = _Progress(started_at=clock(), polled=set())
        self._progress_lock = threading.Lock()
        self._reload_lock = threading.Lock()
        self._reloading: threading.Thread | None = None
        self._stopping = threading.Event()
        self._seen_config_digest = loaded.sha256
        self.metrics.config_loaded(loaded.sha256, clock())
        self.replica: Replica | None = None  # the lease loop (`start`, `hold_lease`)
        self.metrics.watch_lease(self.leading, lambda: self.replica.status().epoch if self.replica else 0)

    def _series_export(self) -> SeriesExport:
        config = self.runtime.loaded.config
        return SeriesExport(tuple(r for r in config.rules if r.export_metrics), config.metrics.series_limit)

    def _timings(self) -> list[SourceTiming]:
        """Each source's poll interval, next poll and next release, for /metrics."""
        scheduler = self._scheduler
        return source_timings(self.runtime.loaded.config.sources, self._clock(),
                              scheduler.next_run if scheduler is not None else lambda _name: None,
                              self.store.newest_period)

    def _dispatcher(self, runtime: Runtime) -> Dispatcher:
        return Dispatcher(self.store, runtime.loaded.config.notify, runtime.notifiers,
                          on_delivery=self.metrics.delivery,
                          firing=lambda: self.book.alerts([Status.FIRING]), delivery_log=self._delivery_log,
                          acting=self.acting, detections=self.engine.detections)

    # -- cycles -------------------------------------------------------------------------
    def run_source(self, name: str, fetched: Fetched | None = None) -> CycleResult:
        """One cycle of one source (the scheduler's job, and `tradewatch once`)."""
        return self._polled(self.engine.cycle(self.runtime, name, self._clock, fetched))

    def _polled(self, result: CycleResult) -> CycleResult:
        with self._progress_lock:
            self._progress.last_cycle_at = self._clock()
            assert self._progress.polled is not None
            self._progress.polled.add(result.source)
        return result

    def run_once(self) -> list[CycleResult]:
        """Every source once, in config order, in three overlapping steps, as the scheduler's
        threads overlap them when several sources are due together: the next source is
        fetched on one thread while this one is ingested and evaluated, and the one before
        updates its alerts and notifies on another (first, if this one has series it has
        evaluations for). One ahead each way: at most two fetched tables and one source's
        evaluations wait."""
        names, runtime, engine = list(self.runtime.sources), self.runtime, self.engine
        results: list[Future[CycleResult]] = []
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="fetch-ahead") as fetching, \
                ThreadPoolExecutor(max_workers=1, thread_name_prefix="alerts") as alerting:
            ahead = fetching.submit(engine.fetch, runtime, names[0], self._clock) if names else None
            for position in range(len(names)):
                assert ahead is not None
                fetched = ahead.result()
                if position + 1 < len(names):
                    ahead = fetching.submit(engine.fetch, runtime, names[position + 1], self._clock)
                detected = engine.detect(runtime, fetched, self._clock)
                try:
                    if results:
                        results[-1].result()  # the alerts of the source before are done (its error raised)
                except BaseException:
                    engine.release(detected)  # never concluded: nothing may wait for it
                    raise
                results.append(alerting.submit(
                    lambda d: self._polled(engine.conclude(runtime, d, self._clock)), detected))
            return [future.result() for future in results]

    def drain(self) -> None:
        self.engine.drain(self.runtime, self._clock)

    # -- lifecycle ----------------------------------------------------------------------
    def metrics_endpoint(self) -> Callable[..., Any]:
        """The WSGI app behind /metrics (large gauge families rendered directly)."""
        return metrics_app(self._base_registry, self._state.tables)

    # -- replicas -------------------------------------------------------------------------
    def acting(self) -> bool:
        """Whether this process may poll, alert and deliver: no lease loop (a test's App), or
        it is the active replica."""
        return self.replica is None or self.replica.active()

    def leading(self) -> bool:
        return self.replica is not None and self.replica.active()

    def hold_lease(self) -> bool:
        """Start the lease loop (its first try answers before this returns); whether this
        process is the active replica. On SQLite the lock file proves it is alone, so it
        takes the lease at once; on PostgreSQL once the lease is free or has run out."""
        ha = self.runtime.loaded.config.ha
        name = ha.replica or f"{socket.gethostname()}:{os.getpid()}"
        lease = self.store.elect(name, ha.lease_seconds)
        self.replica = Replica(lease, ha.renew_seconds, on_active=self._taking_over,
                               on_standby=lambda: None, on_tick=self._standing_by, on_acting=self._acting_now,
                               force=self.store.engine.dialect.name == "sqlite")
        self.replica.start()
        return self.replica.active()

    def _taking_over(self, epoch: int) -> None:
        """Before acting: the alerts as the previous holder left them, a fresh health window."""
        self.book.reload()
        self.engine.evaluate_everything_next(self.runtime.sources)
        with self._progress_lock:
            self._progress = _Progress(started_at=self._clock(), polled=set())

    def _acting_now(self) -> None:
        """Just became active: resolve the alerts of rules this config no longer has, then
        poll every source and deliver what is owed now, as a start does."""
        gone = sorted({a.rule for a in self.book.alerts()} - {r.name for r in self.runtime.rules})
        self.engine.retire_rules(gone, self.runtime, self._clock)
        if self._scheduler is not None:
            self._scheduler.run_all_now()

    def _standing_by(self) -> None:
        """A standby shows the active replica's alerts (API, metrics)."""
        self.book.reload()

    def start(self) -> str:
        """Serve HTTP, take the lease or stand by, and schedule every source (a standby's
        jobs skip until it is active); returns the metrics URL."""
        probes = Probes(self.healthy, self.ready, self.leader, self.reload)
        self.listener = Listener(self._listen, self.store, self.book, lambda: self.runtime, self._clock,
                                 self.metrics_endpoint(), probes, self._services.env, self._api_token,
                                 self._web)
        url = self.listener.start()
        scheduler = SourceScheduler()
        now = self._clock()
        for source in self.runtime.loaded.config.sources:
            schedule = source.poll_schedule
            scheduler.add(source.name, self._safe_run, schedule.every, schedule.cron, first_run=now)
        for source in self.runtime.loaded.config.sources:
            if source.release is not None:
                scheduler.add(source.name, self._release_poll, source.release.poll_every, None,
                              job_id=f"release:{source.name}")
        scheduler.add("outbox", lambda _name: self._safe_drain(), DRAIN_INTERVAL, None, job_id="outbox")
        scheduler.add("config", lambda _name: self._reload_if_changed(), CONFIG_WATCH_INTERVAL, None,
                      job_id="config-watch")
        self._scheduler = scheduler
        if self.replica is None:
            self.hold_lease()
        scheduler.start()
        return url

    def _safe_run(self, name: str) -> None:
        if not self.acting():
            return
        try:
            self.run_source(name)
        except Exception:  # the scheduler thread must survive anything a cycle does
            log.exception("cycle crashed source=%s", name)

    def _release_poll(self, name: str) -> None:
        """Poll more often around a source's due date, until the expected period arrives."""
        source = next((s for s in self.runtime.loaded.config.sources if s.name == name), None)
        if source is None or source.release is None or not self.acting():
            return
        newest = self.store.newest_period(name)
        if in_release_window(newest, source.frequency, source.release, self._clock()):
            self._safe_run(name)

    def _safe_drain(self) -> None:
        if not self.acting():
            return
        try:
            self.drain()
        except Exception:
            log.exception("outbox drain crashed")

    def stop(self) -> None:
        """Finish the cycle in flight, then close everything (a reload in flight is dropped)."""
        self._stopping.set()
        if self._scheduler is not None:
            self._scheduler.shutdown()
        if self.replica is not None:
            self.replica.stop()  # the lease given up: a standby takes over at its next try
        if self.listener is not None:
            self.listener.stop()
        self.engine.close()
        self.store.close()

    # -- reload -------------------------------------------------------------------------
    def reload(self) -> tuple[bool, str]:
        """Validate the whole new config and build its runtime, then swap it in; on any
        error keep the running config. Alert state lives in the book and survives."""
        with self._reload_lock:
            old = self.runtime
            now = self._clock()
            try:
                loaded = load_config(old.loaded.path)
                if loaded.store_url != old.loaded.store_url:
                    raise ConfigError([ConfigProblem(str(old.loaded.path), None, "store",
                                                     "the store cannot change without a restart")])
                runtime = Runtime.build(loaded, previous=old, services=self._services)
            except ConfigError as exc:
                return self._reload_failed(str(exc))
            except Exception as exc:  # a reload must never stop the daemon
                return self._reload_failed(f"{old.loaded.path}: cannot load config: {_reason(exc)}")
            if self._stopping.is_set():
                return False, "stopping"
            self._seen_config_digest = loaded.sha256
            self.runtime = runtime
            removed = sorted({r.name for r in old.rules} - {r.name for r in runtime.rules})
            if self.acting():  # a standby leaves both to the active replica
                unparked = self.store.unpark()  # the new config may have fixed what a receiver refused
                if unparked:
                    log.info("config reload retries parked deliveries count=%d", unparked)
                self.engine.retire_rules(removed, runtime, self._clock)
            if self._scheduler is not None:
                self._reschedule(old, runtime, now)
            self.metrics.config_loaded(loaded.sha256, now)
            log.info("config reloaded sha256=%s sources=%d rules=%d removed_rules=%s",
                     loaded.sha256[:12], len(runtime.sources), len(runtime.rules), ",".join(removed) or "-")
            return True, "reloaded"

    def _reload_failed(self, reason: str) -> tuple[bool, str]:
        self._seen_config_digest = _digest(self.runtime.loaded.path)
        self.metrics.config_reload_failed()
        log.error("config reload failed, keeping the running config: %s", reason.replace("\n", "; "))
        return False, reason

    def reload_in_background(self) -> None:
        """Reload on a thread of its own, at most one at a time: whoever asks (SIGHUP, the
        file watch) goes on at once, and stopping never waits for a config being read."""
        with self._progress_lock:
            if self._stopping.is_set() or (self._reloading is not None and self._reloading.is_alive()):
                return
            self._reloading = threading.Thread(target=self._reload_quietly, name="config-reload",
                                               daemon=True)
            self._reloading.start()

    def _reload_quietly(self) -> None:
        try:
            self.reload()
        except Exception:  # the swap itself failed: say so, keep the thread's death quiet
            log.exception("config reload crashed")

    def _reload_if_changed(self) -> None:
        """Watch the config file: reload when its content changes (each change tried once)."""
        digest = _digest(self.runtime.loaded.path)
        if digest == self._seen_config_digest:
            return
        self._seen_config_digest = digest
        self.reload_in_background()

    def _reschedule(self, old: Runtime, new: Runtime, now: datetime) -> None:
        assert self._scheduler is not None
        before = {s.name: s.poll_schedule for s in old.loaded.config.sources}
        after = {s.name: s.poll_schedule for s in new.loaded.config.sources}
        for name in before.keys() - after.keys():
            self._scheduler.remove(name)
        for name, schedule in after.items():
            if before.get(name) != schedule:
                self._scheduler.add(name, self._safe_run, schedule.every, schedule.cron,
                                    first_run=now if name not in before else None)

    # -- health (monitor/health.py) -----------------------------------------------------
    def _status(self) -> ReplicaStatus | None:
        return self.replica.status() if self.replica is not None else None

    def healthy(self) -> tuple[bool, str]:
        with self._progress_lock:
            last = self._progress.last_cycle_at or self._progress.started_at
        config = self.runtime.loaded.config
        return liveness(self._status(), config.ha.takeover_within, last, self._clock(),
                        health_window(config.sources))

    def ready(self) -> tuple[bool, str]:
        with self._progress_lock:
            polled = set(self._progress.polled or ())
        return readiness(self._status(), self.runtime.sources, polled)

    def leader(self) -> tuple[bool, str]:
        return leadership(self._status(), self.leading())
