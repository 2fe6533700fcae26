"""End-to-end cycle benchmark: a watch list of N series x M months through the real daemon.

    .venv/bin/python bench/cycle.py                      # 100,000 series x 240 months
    .venv/bin/python bench/cycle.py --series 5000 --months 120

Generates a realistic panel (trend, seasonality, level shifts, runs of declines, late starts
and gaps), writes it as Parquet file sources (long format: labels, period, value) with a
config, and times each stage of real cycles of `monitor.app.App`: the first one (all data
new), one new month for every series, one new month for one source only; then one /metrics
render with 10,000 exported series, detection alone per rule, and a restart (current values
rebuilt from the stored history). Cycles over all sources run as `App.run_once` runs them: the
next source is fetched on one thread and the alerts of the one before are updated on another
while the main thread ingests and evaluates; the report shows those apart, with the time the
main thread waited. A naive peer (row-by-row inserts, a pivot, per-series
pandas and ruptures Pelt l2) runs on a sample in the same process and is extrapolated.

Run by hand, not by the test suite. Timings on a shared machine are noisy: run it a few
times and keep the best. The last line is machine-readable:
    cycle_s=<float> peak_rss_mb=<float> naive_ratio=<float>
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import math
import os
import resource
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from prometheus_client import generate_latest  # noqa: E402

import monitor.evaluation as evaluation_module  # noqa: E402
from monitor.alerts.persist import AlertRows  # noqa: E402
from monitor.app import App  # noqa: E402
from monitor.config import load_config  # noqa: E402
from monitor.executor import LOCAL_PARTITION, LocalExecutor, RulePlan  # noqa: E402
from monitor.store import Store  # noqa: E402

_COUNTRY_TEXT = """
ARG AUT AUS AZE BEL BGR BRA BLR CAN CHE CHL CHN CYP CZE DEU DNK EST EGY ESP FIN FRA GBR GEO GRC
HKG HRV HUN IDN IRL ISR IND IRN ITA JPN KGZ KOR KAZ LTU LUX LVA MNG MLT MEX MYS NLD NOR POL PRT
ROU SRB RUS SAU SWE SGP SVN SVK THA TJK TKM TUR
"""
COUNTRIES = tuple(_COUNTRY_TEXT.split())
FLOWS = ("export", "import")
START = pd.Period("2006-01", freq="M")

RULES = """
rules:
  - name: yoy_consecutive_decline
    transform: {kind: yoy_pct}
    detector: {kind: consecutive, direction: below, threshold: -5.0, count: 3}
    export_metrics: true
    labels: {team: policy}
  - name: yoy_sharp_fall
    transform: {kind: yoy_pct}
    detector: {kind: threshold, direction: below, threshold: -30.0}
    severity: critical
  - name: unusual_month
    transform: {kind: level}
    detector: {kind: robust_z, threshold: 5.0, seasonal: true}
    severity: info
  - name: level_shift
    transform: {kind: log}
    detector: {kind: changepoint, cost: l2}
"""


# -- data -------------------------------------------------------------------------------------

def make_values(n: int, months: int, seed: int = 7) -> np.ndarray:
    """(n, months) positive levels with NaN gaps: log-normal scale, trend, seasonality,
    noise, a level shift in 30% of series, a recent run of declines in 8%, a late start in
    10% and a few missing months in 5%."""
    rng = np.random.default_rng(seed)
    t = np.arange(months)
    log = np.empty((n, months))
    for lo in range(0, n, 20_000):  # in blocks: the temporaries stay small
        hi = min(lo + 20_000, n)
        k = hi - lo
        base = rng.normal(9.0, 2.0, k)[:, None]
        trend = rng.normal(0.03, 0.05, k)[:, None] / 12 * t
        phase = rng.uniform(0, 6.3, k)[:, None]
        season = rng.uniform(0.02, 0.25, k)[:, None] * np.sin(2 * np.pi * t / 12 + phase)
        noise = rng.uniform(0.02, 0.15, k)[:, None] * rng.standard_normal((k, months))
        shift_at = rng.integers(24, max(months - 6, 25), k)[:, None]
        shift = np.where(rng.random(k)[:, None] < 0.3, rng.choice([-1, 1], k)[:, None]
                         * rng.uniform(0.2, 0.7, k)[:, None], 0.0) * (t >= shift_at)
        fall_from = months - rng.integers(3, 13, k)[:, None]
        fall = np.where(rng.random(k)[:, None] < 0.08, rng.uniform(0.01, 0.04, k)[:, None], 0.0) \
            * np.clip(t - fall_from + 1, 0, None)
        log[lo:hi] = base + trend + season + noise + shift - fall
    values = np.round(np.exp(log), 3)
    late = np.where(rng.random(n) < 0.1, rng.integers(12, max(months // 2, 13), n), 0)
    values[t[None, :] < late[:, None]] = np.nan
    for i in np.flatnonzero(rng.random(n) < 0.05):
        values[i, rng.integers(late[i], months, rng.integers(1, 7))] = np.nan
    return values


def series_labels(n: int) -> pd.DataFrame:
    """Distinct (reporter, partner, flow, commodity) for each of n series."""
    i = np.arange(n)
    reporter = i % len(COUNTRIES)
    others = (i // len(COUNTRIES)) % (len(COUNTRIES) - 1)
    partner = np.where(others >= reporter, others + 1, others)
    pairs = len(COUNTRIES) * (len(COUNTRIES) - 1)
    flow = (i // pairs) % 2
    commodity = i // (2 * pairs)
    codes = np.array([f"{8401 + c}" for c in range(int(commodity.max()) + 1)], dtype=object)
    return pd.DataFrame({"reporter": np.array(COUNTRIES, dtype=object)[reporter],
                         "partner": np.array(COUNTRIES, dtype=object)[partner],
                         "flow": np.array(FLOWS, dtype=object)[flow], "commodity": codes[commodity]})


def write_source(path: Path, labels: pd.DataFrame, values: np.ndarray) -> int:
    """A long Parquet file, series by series, oldest month first, missing months absent."""
    months = values.shape[1]
    present = ~np.isnan(values)
    counts = present.sum(axis=1)
    columns: dict[str, Any] = {}
    for name in labels.columns:
        codes, uniques = pd.factorize(labels[name])
        columns[name] = pd.Categorical.from_codes(np.repeat(codes, counts), categories=uniques)
    periods = pd.period_range(START, periods=months, freq="M").astype(str)
    columns["period"] = pd.Categorical.from_codes(np.nonzero(present)[1], categories=periods)
    columns["value"] = values[present]
    pq.write_table(pa.Table.from_pandas(pd.DataFrame(columns), preserve_index=False), path)
    return int(present.sum())


def config_text(sources: int, alertmanager: str, partition_size: int | None) -> str:
    parts = ["store: {path: store/tradewatch.db}", "sources:"]
    for k in range(sources):
        parts += [f"  - name: trade_{k}", "    kind: file", f"    path: trade_{k}.parquet",
                  "    value_column: value", "    labels: {unit: USD}",
                  "    label_columns: {reporter: reporter, partner: partner, flow: flow,"
                  " commodity: commodity}"]
    parts.append(RULES)
    parts += ["notify:", "  receivers:", f"    - {{name: desk, alertmanager: {{url: '{alertmanager}'}}}}",
              "  route: {receiver: desk, group_by: [rule], group_wait: 0s}",
              "metrics: {series_limit: 10000}",
              "detection: {executor: local}" if partition_size is None
              else f"detection: {{executor: local, partition_size: {partition_size}}}"]
    return "\n".join(parts) + "\n"


# -- an Alertmanager that accepts everything ---------------------------------------------------

class Sink(http.server.BaseHTTPRequestHandler):
    received = 0

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        Sink.received += len(json.loads(body or b"[]"))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


# -- timing -------------------------------------------------------------------------------------

class Stages:
    """Wall time per stage, added up over the calls made inside one measured block."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    def wrap(self, owner: Any, attribute: str, stage: str) -> None:
        original = getattr(owner, attribute)

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[stage] += time.perf_counter() - started
                self.calls[stage] += 1

        setattr(owner, attribute, timed)

    def reset(self) -> None:
        self.seconds.clear()
        self.calls.clear()


STAGES = (
    ("fetch", "read Parquet, labels per combination, periods per spelling"),
    ("ingest", "compare with current values, write new vintages"),
    ("panel", "current values -> panel"),
    ("detect", "executor: every rule over the panel"),
    ("evaluations", "Evaluation objects for findings and active alerts"),
    ("book", "alert book update, alert rows and outbox rows in one transaction"),
    ("persist", "  of which the transaction"),
    ("outbox", "drain: route, send to the Alertmanager sink, record"),
)


def cpu_seconds() -> float:
    """User and system CPU time of this process so far (all threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def rule_seconds(app: App) -> dict[str, float]:
    """Detection seconds per rule so far, as the daemon exports them."""
    return {rule.name: app.registry.get_sample_value(
        "tradewatch_rule_evaluation_duration_seconds_sum", {"rule": rule.name}) or 0.0
        for rule in app.runtime.rules}


def report_rules(before: dict[str, float], after: dict[str, float]) -> None:
    print("    of detect, per rule: " + ", ".join(f"{name} {after[name] - before.get(name, 0.0):.2f} s"
                                                  for name in after))


MAIN_THREAD = ("ingest", "panel", "detect", "evaluations")  # in run_once; fetch and alerts have threads


def report(title: str, stages: Stages, total: float, extra: str = "", pipelined: bool = True) -> None:
    """Stages as timed. In `App.run_once` a cycle runs on three threads: the next source is
    fetched on one, this one ingested and evaluated on the main thread, and the one before
    updates its alerts and notifies on a third. Fetch and alerts overlap the main thread's
    work; the main thread's own time is shown with what it waited for (the first fetch, a
    source's alerts before the next source evaluates series it shares, the last alerts)."""
    print(f"{title}{extra}")
    counted = 0.0
    for name, what in STAGES:
        seconds = stages.seconds.get(name, 0.0)
        counted += seconds if name in MAIN_THREAD or (not pipelined and name != "persist") else 0.0
        calls = stages.calls.get(name, 0)
        note = ""
        if pipelined and name == "fetch":
            note = "; on the fetch-ahead thread, overlapping the processing of the source before"
        elif pipelined and name in ("book", "outbox"):
            note = "; on the alerts thread, overlapping the processing of the source after"
        print(f"  {name:<12}{seconds:8.2f} s  ({calls} calls; {what}{note})")
    processing = stages.seconds.get("main" if pipelined else "process", total)
    print(f"  {'other':<12}{max(processing - counted, 0.0):8.2f} s  (selection, clock rules, logging)")
    if pipelined:
        print(f"  {'waiting':<12}{max(total - processing, 0.0):8.2f} s  (main thread: for the first fetch, "
              f"for the last source's alerts)")
    print(f"  {'total':<12}{total:8.2f} s")


def rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024.0  # kilobytes on Linux


def workers_peak_mb() -> float:
    """Largest peak RSS (VmHWM) among this process's descendants: the detection workers are
    children of the forkserver, so RUSAGE_CHILDREN never sees them."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    mine, frontier = set(), {os.getpid()}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - mine
        mine |= frontier
    peak = 0.0
    for pid in mine:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]) / 1024.0)
        except OSError:
            continue
    return peak


def memory(label: str) -> None:
    print(f"  memory after {label}: peak RSS {rss_mb():,.0f} MB, "
          f"detection workers {workers_peak_mb():,.0f} MB")


@contextmanager
def clock_at(holder: list[datetime], when: datetime) -> Iterator[None]:
    holder[0] = when
    yield


# -- the naive peer -----------------------------------------------------------------------------

def naive_peer(values: np.ndarray, months: int, n_total: int, sample: int) -> dict[str, float]:
    """Seconds the naive approach would take for n_total series, extrapolated from a sample:
    SQLAlchemy executemany with a dict per value into a row-per-value table, a pivot, then
    per series pandas YoY, threshold, consecutive run and seasonal robust z, and ruptures
    Pelt (l2, min_size 6) on the standardized log series."""
    import ruptures as rpt
    import sqlalchemy as sa

    rng = np.random.default_rng(1)
    picks = np.sort(rng.choice(len(values), size=min(sample, len(values)), replace=False))
    index = pd.period_range(START, periods=months, freq="M")
    block = values[picks, :months]
    out: dict[str, float] = {}

    meta = sa.MetaData()
    table = sa.Table("observations", meta, sa.Column("series", sa.String, primary_key=True),
                     sa.Column("period", sa.String, primary_key=True),
                     sa.Column("vintage", sa.DateTime(timezone=True), primary_key=True),
                     sa.Column("value", sa.Float, nullable=False))
    rows = [{"series": f"s{i}", "period": str(index[j]), "vintage": datetime(2026, 1, 1, tzinfo=UTC),
             "value": float(block[i, j])} for i in range(len(picks)) for j in range(months)
            if not math.isnan(block[i, j])]
    with tempfile.TemporaryDirectory() as scratch:
        engine = sa.create_engine(f"sqlite:///{scratch}/naive.db")
        meta.create_all(engine)
        started = time.perf_counter()
        with engine.begin() as conn:
            conn.execute(table.insert(), rows)
        per_row = (time.perf_counter() - started) / len(rows)
        engine.dispose()
    out["ingest"] = per_row * len(rows) / len(picks) * n_total * 2  # observations and current
    long = pd.DataFrame(rows)
    started = time.perf_counter()
    long.pivot(index="period", columns="series", values="value")
    out["panel"] = (time.perf_counter() - started) / len(picks) * n_total

    started = time.perf_counter()
    for i in range(len(picks)):
        s = pd.Series(block[i], index=index)
        yoy = s.pct_change(12, fill_method=None) * 100
        below = (yoy < -5.0).astype(int)
        below.groupby((below == 0).cumsum()).cumsum().iloc[-1] >= 3  # noqa: B015 (timed only)
        bool(yoy.iloc[-1] < -30.0)
        by_month = s.groupby(s.index.month)
        median = by_month.transform(lambda x: x.shift(1).rolling(5, min_periods=5).median())
        mad = (s - median).abs().groupby(s.index.month).transform(
            lambda x: x.shift(1).rolling(5, min_periods=5).median())
        float((0.6745 * (s - median) / mad).iloc[-1])
    out["thresholds, robust z"] = (time.perf_counter() - started) / len(picks) * n_total

    few = min(len(picks), max(10, sample // 10))
    started = time.perf_counter()
    for i in range(few):
        x = np.log(block[i][~np.isnan(block[i])])
        z = (x - x.mean()) / (x.std() or 1.0)
        rpt.Pelt(model="l2", min_size=6, jump=1).fit(z).predict(pen=3 * math.log(len(z)))
    out["changepoint (ruptures Pelt l2)"] = (time.perf_counter() - started) / few * n_total
    return out


# -- the run --------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--series", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=240)
    parser.add_argument("--sources", type=int, default=4, help="file sources sharing the series")
    parser.add_argument("--partition-size", type=int, default=None,
                        help=f"series per partition (default: the daemon's, {LOCAL_PARTITION:,})")
    parser.add_argument("--sample", type=int, default=200, help="series the naive peer runs on")
    parser.add_argument("--keep", type=Path, help="work in this directory and keep it")
    args = parser.parse_args(argv)
    n, months, k = args.series, args.months, args.sources

    print(f"tradewatch cycle benchmark: {n:,} series x {months} months, {k} file sources, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start")
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="tradewatch-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)

    started = time.perf_counter()
    values = make_values(n, months + 2)
    labels = series_labels(n)
    owner = np.arange(n) % k  # which source publishes each series
    cells = 0
    for source in range(k):
        mine = owner == source
        cells += write_source(workdir / f"trade_{source}.parquet", labels[mine].reset_index(drop=True),
                              values[mine, :months])
    print(f"generated {cells:,} observations in {time.perf_counter() - started:.1f} s ({workdir})")
    memory("generating the files")

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    path = workdir / "tradewatch.yaml"
    path.write_text(config_text(k, f"http://127.0.0.1:{server.server_address[1]}", args.partition_size))

    now = [datetime(2026, 3, 25, 6, 0, tzinfo=UTC)]
    app = App(load_config(path), clock=lambda: now[0])
    stages = Stages()
    for name, source in app.runtime.sources.items():
        stages.wrap(source, "fetch", "fetch")
        del name
    stages.wrap(app.store, "ingest", "ingest")
    stages.wrap(app.store, "panel", "panel")
    stages.wrap(AlertRows, "commit", "persist")
    stages.wrap(app.book, "apply", "book")
    stages.wrap(app.engine, "drain", "outbox")
    stages.wrap(LocalExecutor, "run", "detect")
    stages.wrap(evaluation_module, "rule_evaluations", "evaluations")
    stages.wrap(app, "run_source", "process")  # one source: the whole cycle
    stages.wrap(app.engine, "detect", "main")  # run_once: the main thread's part of a cycle

    # 1. Everything new.
    started, cpu, per_rule = time.perf_counter(), cpu_seconds(), rule_seconds(app)
    results = app.run_once()
    cycle_s = time.perf_counter() - started
    alerts = len(app.book.alerts())
    report("full cycle, all data new", stages, cycle_s,
           f": {sum(r.new_observations for r in results):,} observations, "
           f"{sum(r.transitions for r in results):,} alert transitions, {alerts:,} alerts, "
           f"{Sink.received:,} notifications sent in the first drain")
    report_rules(per_rule, rule_seconds(app))
    print(f"  cpu         {cpu_seconds() - cpu:8.2f} s  (all threads)")
    pending, _ = app.store.outbox_depth()
    print(f"  outbox still pending: {pending:,} (a drain sends 1,000 at a time)")
    memory("the first cycle")
    worker_peak = workers_peak_mb()

    # 2. One /metrics render.
    endpoint = app.metrics_endpoint()
    accept = "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.3"  # Prometheus's
    started = time.perf_counter()
    body = b"".join(endpoint({"HTTP_ACCEPT": accept, "PATH_INFO": "/metrics"}, lambda *_: None))
    render = time.perf_counter() - started
    started = time.perf_counter()
    generate_latest(app.registry)
    client_only = time.perf_counter() - started
    exported = sum(1 for line in body.decode().splitlines() if line.startswith("tradewatch_series_value{"))
    print(f"metrics render   {render:8.2f} s  ({exported:,} series exported, {len(body) / 1e6:.1f} MB; "
          f"prometheus_client's generate_latest alone: {client_only:.2f} s)")

    # 3. Detection alone, per rule, over every series.
    by_frequency = [info.id for info in app.store.series().values()]
    started = time.perf_counter()
    panel = app.store.panel(by_frequency, "M")
    print(f"detection alone over the full panel ({panel.shape[1]:,} x {panel.shape[0]}, "
          f"panel built in {time.perf_counter() - started:.2f} s):")
    partition = args.partition_size or LOCAL_PARTITION
    executor = LocalExecutor(partition)
    where = "in-process"
    if panel.shape[1] > partition:
        started = time.perf_counter()
        executor.start()
        print(f"  {'worker processes start':<26}{time.perf_counter() - started:8.2f} s  "
              f"({executor.workers}; once per daemon, at the first panel over {partition:,} series)")
        where = "the panel shipped to the workers"
    infos = app.store.series()
    plain_labels = {sid: infos[sid].labels for sid in panel.columns}
    plans = [RulePlan(rule.name, rule.config.transform.kind, rule.config.transform.params(), rule.detector,
                      rule.config.severity) for rule in app.runtime.rules]
    for rule, plan in zip(app.runtime.rules, plans, strict=True):
        started = time.perf_counter()
        [result] = executor.run(panel, [plan], plain_labels)
        print(f"  {rule.name:<26}{time.perf_counter() - started:8.2f} s  {len(result.findings):,} findings "
              f"({rule.config.transform.kind} + {rule.detector.kind}; {where})")
    started = time.perf_counter()
    executor.run(panel, plans, plain_labels)
    detect_total = time.perf_counter() - started
    print(f"  {'all rules, one pass':<26}{detect_total:8.2f} s  (as a cycle runs them, {where})")
    memory("detection alone")
    worker_peak = max(worker_peak, workers_peak_mb())
    executor.close()
    del panel, plain_labels

    # 4. One new month for every series.
    for source in range(k):
        mine = owner == source
        write_source(workdir / f"trade_{source}.parquet", labels[mine].reset_index(drop=True),
                     values[mine, :months + 1])
    stages.reset()
    now[0] += timedelta(days=30)
    started, cpu, per_rule = time.perf_counter(), cpu_seconds(), rule_seconds(app)
    results = app.run_once()
    total = time.perf_counter() - started
    report("incremental cycle, one new month for every series", stages, total,
           f": {sum(r.new_observations for r in results):,} new observations, "
           f"{sum(r.changed_series for r in results):,} series evaluated, "
           f"{sum(r.evaluations for r in results):,} evaluations reached the book")
    report_rules(per_rule, rule_seconds(app))
    print(f"  cpu         {cpu_seconds() - cpu:8.2f} s  (all threads)")
    incremental_s = total

    # 5. One new month for one source only.
    mine = owner == 0
    write_source(workdir / "trade_0.parquet", labels[mine].reset_index(drop=True), values[mine, :months + 2])
    stages.reset()
    now[0] += timedelta(days=30)
    started = time.perf_counter()
    result = app.run_source("trade_0")
    total = time.perf_counter() - started
    report("incremental cycle, one new month for one source", stages, total,
           f": {result.new_observations:,} new observations, {result.changed_series:,} series evaluated "
           f"(of {n:,})", pipelined=False)
    others = [app.run_source(f"trade_{s}") for s in range(1, k)]
    print(f"  the other sources, polled next, found {sum(r.changed_series for r in others)} series changed")
    memory("the incremental cycles")
    worker_peak = max(worker_peak, workers_peak_mb())

    # 6. A restart: current values rebuilt from the stored history.
    app.stop()
    server.shutdown()
    del app  # a restart is a new process: only the rebuilt store in memory
    started = time.perf_counter()
    store = Store(f"sqlite:///{workdir / 'store' / 'tradewatch.db'}")
    store.latest_snapshot()
    print(f"restart: current values rebuilt from the history in {time.perf_counter() - started:.2f} s")
    store.close()
    database = workdir / "store" / "tradewatch.db"
    size = sum(p.stat().st_size for p in database.parent.glob("tradewatch.db*"))
    print(f"store on disk: {size / 1e6:,.0f} MB")

    # 7. The naive peer, on a sample, in the same run.
    naive = naive_peer(values, months, n, args.sample)
    naive_total = sum(naive.values())
    print(f"naive peer (sample of {min(args.sample, n)} series, extrapolated to {n:,}):")
    for name, seconds in naive.items():
        print(f"  {name:<32}{seconds:10.1f} s")
    print(f"  {'total':<32}{naive_total:10.1f} s")

    peak = rss_mb()
    print(f"peak RSS: {peak:,.0f} MB in this process, {worker_peak:,.0f} MB in the largest detection "
          f"worker; load average {os.getloadavg()[0]:.2f} at the end; "
          f"incremental all-series cycle {incremental_s:.2f} s, detection alone {detect_total:.2f} s")
    if args.keep is None:
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)
    print(f"cycle_s={cycle_s:.3f} peak_rss_mb={peak:.1f} naive_ratio={naive_total / cycle_s:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
