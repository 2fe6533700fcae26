"""Prometheus metrics; the only prometheus_client import besides the HTTP mount.

One registry is created at start-up and passed down. Per-poll facts are instrumented as they
happen; the state of series and alerts is read at scrape time by a collector, so thousands
of series never mean thousands of gauge updates per cycle.
"""

from __future__ import annotations

import math
import platform
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info
from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from monitor import __version__
from monitor.alerts.book import AlertBook
from monitor.alerts.lifecycle import Status
from monitor.config import Rule
from monitor.engine import CycleObserver, CycleResult
from monitor.exposition import ExportRegistry, GaugeTable
from monitor.periods import pandas_freq
from monitor.scheduler import SourceTiming
from monitor.store import SeriesInfo, Store

SERIES_LABELS = ("series", "source", "reporter", "partner", "flow", "commodity", "unit")
ALERT_LABELS = ("alertname", "series", "severity", "alertstate")


@dataclass(frozen=True, slots=True)
class TableFamily:
    """A gauge family the scrape-time collector exports: its name, help and label names."""

    name: str
    documentation: str
    labelnames: tuple[str, ...] = ()

    def table(self) -> GaugeTable:
        return GaugeTable(self.name, self.documentation, self.labelnames)


SERIES_VALUE = TableFamily(
    "tradewatch_series_value",
    "Newest value of each series, in the unit its `unit` label names (a source's `unit` label, "
    "else its `currency`; e.g. USD, USD_M for millions of US dollars, EUR; empty when the source "
    "gives none): compare or add values of one unit only.", SERIES_LABELS)
SERIES_YOY = TableFamily(
    "tradewatch_series_yoy_percent",
    "Change of the newest value against the same period a year earlier, in % (absent without a base).",
    SERIES_LABELS)
SERIES_PERIOD = TableFamily(
    "tradewatch_series_period_timestamp_seconds",
    "Start of the newest reference period of each series (Unix time).", SERIES_LABELS)
SERIES_AGE = TableFamily(
    "tradewatch_series_period_age_seconds",
    "Time since the end of the newest reference period of each series.", SERIES_LABELS)
SERIES_VINTAGE = TableFamily(
    "tradewatch_series_vintage_timestamp_seconds",
    "When the newest value of each series was first fetched as it stands.", SERIES_LABELS)
SERIES_WATCHED = TableFamily("tradewatch_series_watched", "Series in the store.")
SERIES_EXPORTED = TableFamily(
    "tradewatch_series_exported", "Series with per-series metrics (rules with export_metrics: true).")
SERIES_DROPPED = TableFamily(
    "tradewatch_series_export_dropped",
    "Series that would be exported but exceed metrics.series_limit.")
ALERTS = TableFamily(
    "tradewatch_alerts",
    "Active alerts (pending or firing), 1 per alert, like ALERTS; alerts of at most "
    "metrics.series_limit series (those with a firing alert first, then by id).", ALERT_LABELS)
ALERTS_DROPPED = TableFamily(
    "tradewatch_alerts_export_dropped",
    "Series with active alerts left out of tradewatch_alerts: more than metrics.series_limit have some.")
OUTBOX_PENDING = TableFamily(
    "tradewatch_outbox_pending", "Notifications recorded but not yet delivered to every receiver.")
OUTBOX_AGE = TableFamily(
    "tradewatch_outbox_oldest_age_seconds", "Age of the oldest undelivered notification (0 when none).")
OUTBOX_PARKED = TableFamily(
    "tradewatch_outbox_parked",
    "Deliveries a receiver refused for good (credentials, scope, channel), by receiver; retried "
    "after a config reload.", ("receiver",))
POLL_INTERVAL = TableFamily(
    "tradewatch_source_poll_interval_seconds",
    "Time between two polls of the source by its schedule (a cron schedule's: the longer of the "
    "gaps either side of its last run); late after this plus a grace without a success.", ("source",))
NEXT_POLL = TableFamily(
    "tradewatch_source_next_poll_timestamp_seconds",
    "When the source's next scheduled poll is due (Unix time).", ("source",))
NEXT_RELEASE = TableFamily(
    "tradewatch_source_next_release_timestamp_seconds",
    "When the source's release calendar expects the period after its newest one (Unix time; "
    "in the past while that release is overdue); sources with a calendar and data only.", ("source",))
STATE_FAMILIES = (SERIES_VALUE, SERIES_YOY, SERIES_PERIOD, SERIES_AGE, SERIES_VINTAGE, SERIES_WATCHED,
                  SERIES_EXPORTED, SERIES_DROPPED, ALERTS, ALERTS_DROPPED, OUTBOX_PENDING, OUTBOX_AGE,
                  OUTBOX_PARKED, POLL_INTERVAL, NEXT_POLL, NEXT_RELEASE)
POLL_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)


class Metrics(CycleObserver):
    """Instruments updated by the engine and the dispatcher."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        Info("tradewatch_build", "tradewatch version and Python runtime.", registry=registry).info(
            {"version": __version__, "python": platform.python_version()})
        self.poll_duration = Histogram(
            "tradewatch_source_poll_duration_seconds",
            "Time of one poll of a source: fetch, ingest, evaluation and notification.",
            ["source"], buckets=POLL_BUCKETS, registry=registry)
        self.cycle_duration = Histogram(
            "tradewatch_cycle_duration_seconds",
            "Time of one cycle after the fetch: ingest, evaluation, alerts and notification.",
            ["source"], buckets=POLL_BUCKETS, registry=registry)
        self.stage_duration = Histogram(
            "tradewatch_cycle_stage_duration_seconds",
            "Time of each stage of a successful poll: fetch, ingest (compare with current values, write "
            "new vintages), evaluate (panels and detection), alerts (alert book and its transaction, "
            "clock rules), notify (outbox drain).",
            ["source", "stage"], buckets=POLL_BUCKETS, registry=registry)
        self.rule_duration = Histogram(
            "tradewatch_rule_evaluation_duration_seconds",
            "Detection time of a rule in one cycle, summed over partitions (a transform shared by "
            "several rules counts for the first).",
            ["rule"], buckets=POLL_BUCKETS, registry=registry)
        self.poll_errors = Counter(
            "tradewatch_source_errors_total",
            "Failed polls (reason: timeout, http, not_found, parse, ...) and skipped rows (rows).",
            ["source", "reason"], registry=registry)
        self.last_success = Gauge(
            "tradewatch_source_last_success_timestamp_seconds",
            "Unix time of the last poll that returned data.", ["source"], registry=registry)
        self.source_up = Gauge(
            "tradewatch_source_up", "1 if the last poll of the source succeeded, else 0.",
            ["source"], registry=registry)
        self.findings = Counter(
            "tradewatch_findings_total",
            "Series a rule flagged at their newest period, per evaluation.", ["rule"],
            registry=registry)
        self.notifications = Counter(
            "tradewatch_notifications_total",
            "Notifications by receiver, rule and outcome (sent, failed, parked, silenced, inhibited); "
            "failed counts attempts that failed, once each; a send held back while a receiver cools off "
            "after failing is not an attempt.",
            ["receiver", "rule", "outcome"], registry=registry)
        self.retries = Counter(
            "tradewatch_notification_retries_total",
            "Delivery attempts that repeat a failed one, by receiver.", ["receiver"], registry=registry)
        self.cycles = Counter(
            "tradewatch_cycles_total", "Completed polls, successful or not.", ["source"],
            registry=registry)
        self.reload_ok = Gauge(
            "tradewatch_config_last_reload_successful",
            "1 if the last config load or reload succeeded (a failed reload keeps the old config).",
            registry=registry)
        self.reload_time = Gauge(
            "tradewatch_config_last_reload_success_timestamp_seconds",
            "Unix time of the last successful config load or reload.", registry=registry)
        self.config_info = Gauge(
            "tradewatch_config_info", "The running config, by the SHA-256 of its file (always 1).",
            ["sha256"], registry=registry)
        self._clock: Callable[[], datetime] | None = None

    def config_loaded(self, sha256: str, now: datetime) -> None:
        self.reload_ok.set(1)
        self.reload_time.set(now.timestamp())
        self.config_info.clear()
        self.config_info.labels(sha256).set(1)

    def config_reload_failed(self) -> None:
        self.reload_ok.set(0)

    def watch_lease(self, leading: Callable[[], bool], epoch: Callable[[], int]) -> None:
        """The replica's role and lease epoch, read at scrape time."""
        Gauge("tradewatch_leader", "1 on the active replica (it holds the store's lease), 0 on a standby.",
              registry=self.registry).set_function(lambda: 1.0 if leading() else 0.0)
        Gauge("tradewatch_lease_epoch",
              "Epoch of the store's lease: held by this replica when it is active, the newest seen when "
              "it stands by; it grows by one with every takeover.",
              registry=self.registry).set_function(lambda: float(epoch()))

    def set_clock(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock

    def poll_finished(self, result: CycleResult) -> None:
        self.cycles.labels(result.source).inc()
        self.poll_duration.labels(result.source).observe(result.duration_seconds)
        if result.ok:
            self.cycle_duration.labels(result.source).observe(result.duration_seconds - result.fetch_seconds)
            for stage, seconds in result.stages.items():
                self.stage_duration.labels(result.source, stage).observe(seconds)
        self.source_up.labels(result.source).set(1 if result.ok else 0)
        if result.ok and self._clock is not None:
            self.last_success.labels(result.source).set(self._clock().timestamp())
        if result.error_reason:
            amount = len(result.problems) if result.ok else 1
            self.poll_errors.labels(result.source, result.error_reason).inc(amount)

    def rule_evaluated(self, rule: str, findings: int, seconds: float = 0.0) -> None:
        self.findings.labels(rule).inc(findings)
        self.rule_duration.labels(rule).observe(seconds)

    def delivery(self, receiver: str, rule: str, outcome: str) -> None:
        if outcome == "retried":
            self.retries.labels(receiver).inc()
            return
        self.notifications.labels(receiver, rule, outcome).inc()


@dataclass(frozen=True, slots=True)
class SeriesExport:
    """Which series get per-series metrics: those selected by a rule with
    `export_metrics: true`, at most `limit` of them (sorted by id), so a watch list of
    100,000 series never becomes 100,000 time series by accident."""

    rules: tuple[Rule, ...]
    limit: int

    def choose(self, infos: Mapping[str, SeriesInfo]) -> tuple[list[str], int]:
        """(series ids to export, how many more were eligible but over the limit)."""
        eligible = sorted(sid for sid, info in infos.items()
                          if any(rule.matches(info.labels) for rule in self.rules))
        return eligible[:self.limit], max(len(eligible) - self.limit, 0)


class StateCollector(Collector):
    """Reads series values, alerts, the outbox and the sources' schedules when Prometheus
    scrapes (the families of STATE_FAMILIES)."""

    def __init__(self, store: Store, book: AlertBook, clock: Callable[[], datetime],
                 export: Callable[[], SeriesExport],
                 timings: Callable[[], Sequence[SourceTiming]] = tuple) -> None:
        self._store = store
        self._book = book
        self._clock = clock
        self._export = export
        self._timings = timings

    def collect(self) -> Iterable[Metric]:
        return [table.family() for table in self.tables()]

    def tables(self) -> list[GaugeTable]:
        """Every gauge this collector exports, as tables /metrics renders directly."""
        export = self._export()
        return [*self._series(export), *self._alerts(export.limit), *self._outbox(), *self._schedule()]

    def _series(self, export: SeriesExport) -> list[GaugeTable]:
        value, yoy, period, age, vintage = (family.table() for family in (
            SERIES_VALUE, SERIES_YOY, SERIES_PERIOD, SERIES_AGE, SERIES_VINTAGE))
        infos = self._store.series()
        chosen, dropped = export.choose(infos)
        now = self._clock()
        snapshot = self._store.latest_snapshot(chosen)  # only the exported series are read
        times: dict[tuple[str, str], tuple[float, float]] = {}  # per distinct period: start, age
        for sid, freq, when, level, base, fetched in zip(
                snapshot["series"].tolist(), snapshot["frequency"].tolist(), snapshot["period"].tolist(),
                snapshot["value"].tolist(), snapshot["year_ago_value"].tolist(), snapshot["vintage"].tolist(),
                strict=True):
            info = infos[sid].labels if sid in infos else {}
            labels = (sid, *(str(info.get(k, "")) for k in SERIES_LABELS[1:-1]),
                      str(info.get("unit") or info.get("currency") or ""))
            if (when, freq) not in times:
                reference = pd.Period(when, freq=pandas_freq(freq))
                end = reference.end_time.tz_localize("UTC").to_pydatetime()
                times[when, freq] = (reference.start_time.tz_localize("UTC").timestamp(),
                                     max((now - end).total_seconds(), 0.0))
            start, elapsed = times[when, freq]
            value.rows.append((labels, level))  # one label tuple shared by the series' samples
            if math.isfinite(base) and base != 0:
                yoy.rows.append((labels, 100.0 * (level / base - 1.0)))
            period.rows.append((labels, start))
            age.rows.append((labels, elapsed))
            vintage.rows.append((labels, fetched.timestamp()))
        return [value, yoy, period, age, vintage, _scalar(SERIES_WATCHED, len(infos)),
                _scalar(SERIES_EXPORTED, len(chosen)), _scalar(SERIES_DROPPED, dropped)]

    def _alerts(self, limit: int) -> list[GaugeTable]:
        """Alerts of at most `limit` series, like the series gauges: those with a firing alert
        first (a page matters more than a pending alert), then by id."""
        table = ALERTS.table()
        active = self._book.alerts([Status.PENDING, Status.FIRING])
        firing = {alert.series for alert in active if alert.status is Status.FIRING}
        series = sorted({alert.series for alert in active}, key=lambda sid: (sid not in firing, sid))
        kept = set(series[:limit])
        for alert in active:
            if alert.series in kept:
                table.rows.append(((alert.rule, alert.series, alert.severity, alert.status.value), 1.0))
        return [table, _scalar(ALERTS_DROPPED, len(series) - len(kept))]

    def _schedule(self) -> list[GaugeTable]:
        interval, next_poll, next_release = (f.table() for f in (POLL_INTERVAL, NEXT_POLL, NEXT_RELEASE))
        for timing in self._timings():
            labels = (timing.source,)
            interval.rows.append((labels, timing.interval.total_seconds()))
            if timing.next_poll is not None:
                next_poll.rows.append((labels, timing.next_poll.timestamp()))
            if timing.next_release is not None:
                next_release.rows.append((labels, timing.next_release.timestamp()))
        return [interval, next_poll, next_release]

    def _outbox(self) -> list[GaugeTable]:
        depth, oldest = self._store.outbox_depth()
        age = (self._clock() - oldest).total_seconds() if oldest is not None else 0.0
        parked = OUTBOX_PARKED.table()
        counts: dict[str, int] = {}
        for row in self._store.parked_deliveries():
            counts[row.receiver] = counts.get(row.receiver, 0) + 1
        parked.rows.extend(((receiver,), float(n)) for receiver, n in sorted(counts.items()))
        return [_scalar(OUTBOX_PENDING, depth), _scalar(OUTBOX_AGE, max(age, 0.0)), parked]


def _scalar(family: TableFamily, value: float) -> GaugeTable:
    return GaugeTable(family.name, family.documentation, (), [((), float(value))])


def build_registry() -> CollectorRegistry:
    """A fresh registry with process and platform metrics, as every exporter has, and
    without `_created` series."""
    from prometheus_client.gc_collector import GCCollector
    from prometheus_client.platform_collector import PlatformCollector
    from prometheus_client.process_collector import ProcessCollector

    registry = ExportRegistry()
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry
