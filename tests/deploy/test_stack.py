"""End to end: a real `tradewatch run` scraped by a real Prometheus that loads the rules file.
Every query of the dashboards and the rules must evaluate, and the key ones return data."""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import yaml

from tests.conftest import require_binary
from tests.deploy.support import (
    JOB,
    PROMETHEUS_CONFIG,
    Query,
    all_dashboard_queries,
    concrete,
    healthcheck_command,
    infinity_path,
    load_yaml,
    metric_names,
    parse_label_values,
    rule_queries,
    select,
)

pytestmark = pytest.mark.slow

STARTUP_TIMEOUT = 30.0

DAEMON_CONFIG = """
store: {{path: state/tradewatch.db}}
sources:
  - name: rosstat_russia_china
    kind: file
    path: demo://russia_china_monthly_2006_2021_russian_fcs.csv
    frequency: M
    period_column: period
    labels: {{reporter: RUS, partner: CHN, commodity: TOTAL, unit: USD_M}}
    columns:
      ru_exports_to_cn_musd: {{flow: export}}
      ru_imports_from_cn_musd: {{flow: import}}
    replay: {{start: 2014-09, every: 1s}}
    # Replayed history: the calendar's next release (2015) is long overdue.
    release: {{day: 20, lag: 1}}
  # A source whose file is missing: source_up 0 and errors for the failure panels and rules.
  - name: missing_file
    kind: file
    path: missing.csv
    value_column: value
    schedule: {{every: 2s}}
rules:
  - name: yoy_sharp_fall
    select: {{partner: [CHN]}}
    transform: {{kind: yoy_pct}}
    detector: {{kind: threshold, direction: below, threshold: -20.0}}
    severity: critical
    export_metrics: true
notify:
  receivers:
    - name: console
      console: {{}}
    # A receiver that rejects every notification: failed deliveries and a growing outbox.
    - name: rejecting
      webhook: {{url: "http://127.0.0.1:{rejecting_port}/hook", timeout: 1s}}
  route:
    receiver: console
    routes:
      - {{match: {{}}, receiver: console, continue: true}}
      - {{match: {{}}, receiver: rejecting}}
"""


class _Reject(BaseHTTPRequestHandler):
    """Answers 400 at once: a client error is not retried, so the daemon is not slowed down."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(400)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Silent."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(check: Callable[[], Any], what: str, timeout: float = STARTUP_TIMEOUT) -> Any:
    """Call `check` until it returns something truthy (and return that), or fail."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = check()
        except (httpx.HTTPError, KeyError, ValueError) as exc:
            last_error, result = exc, None
        if result:
            return result
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what} (last error: {last_error!r})")


def stop_process(process: subprocess.Popen[Any], sig: signal.Signals = signal.SIGTERM) -> int:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            return process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
    return process.wait(timeout=10)


class Daemon:
    """`tradewatch run` on 127.0.0.1:0; stdout (notifications) read on a thread, logs to a file."""

    def __init__(self, config: Path, log: Path) -> None:
        self.log = log
        self._log_file = log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "monitor", "run", "--config", str(config), "--listen", "127.0.0.1:0"],
            stdout=subprocess.PIPE, stderr=self._log_file, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()
        try:
            line = self._wait_for_url()
        except BaseException:
            self.stop()
            raise
        self.metrics_url = line.rsplit(" ", 1)[-1]
        self.base = self.metrics_url.removesuffix("/metrics")
        self.address = urlsplit(self.base).netloc

    def _wait_for_url(self) -> str:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"daemon did not start:\n{self.log.read_text()}") from None
                continue
            if "serving metrics at" in line:
                return line

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def stop(self) -> int:
        code = stop_process(self.process)
        self._log_file.close()
        return code


class Prometheus:
    """A real Prometheus on a free loopback port with its own TSDB directory."""

    def __init__(self, binary: str, workdir: Path, target: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.config = workdir / "prometheus.yml"
        self.config.write_text(yaml.safe_dump(prometheus_config_for(target)))
        self.log = workdir / "prometheus.log"
        self._log_file = self.log.open("w")
        self.client = httpx.Client(base_url=self.base, timeout=10)
        self.process = subprocess.Popen(
            [binary, f"--config.file={self.config}", f"--storage.tsdb.path={workdir / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"],
            stdout=self._log_file, stderr=subprocess.STDOUT)

        def ready() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"prometheus exited:\n{self.log.read_text()}")
            return self.client.get("/-/ready", timeout=2).status_code == 200

        try:
            wait_until(ready, "Prometheus to be ready")
        except BaseException:
            self.stop()
            raise

    def api(self, path: str, **params: Any) -> dict[str, Any]:
        response = self.client.get(f"/api/v1/{path}", params=params)
        body = response.json()
        assert isinstance(body, dict)
        return body

    def query(self, expr: str) -> dict[str, Any]:
        return self.api("query", query=expr)

    def data(self, expr: str) -> list[dict[str, Any]]:
        body = self.query(expr)
        assert body["status"] == "success", f"{expr}: {body.get('error')}"
        result = body["data"]["result"]
        return result if isinstance(result, list) else [result]

    def stop(self) -> int:
        self.client.close()
        code = stop_process(self.process)
        self._log_file.close()
        return code


def prometheus_config_for(target: str) -> dict[str, Any]:
    """deploy/prometheus/prometheus.yml pointed at the test daemon: the same tradewatch job,
    scraped and evaluated every second, the same rule files (absolute), no Alertmanager."""
    config = load_yaml(PROMETHEUS_CONFIG)
    [job] = [c for c in config["scrape_configs"] if c["job_name"] == JOB]
    job["static_configs"] = [{"targets": [target]}]
    job["scrape_interval"] = "1s"
    job["scrape_timeout"] = "1s"
    config["global"].update({"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"})
    config["rule_files"] = [str(PROMETHEUS_CONFIG.parent / p) for p in config["rule_files"]]
    config["scrape_configs"] = [job]
    config.pop("alerting", None)
    return config


@dataclass
class Stack:
    daemon: Daemon
    prometheus: Prometheus
    series: list[str]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    prometheus_binary = require_binary("prometheus")
    workdir = tmp_path_factory.mktemp("stack")
    config = workdir / "tradewatch.yaml"
    with contextlib.ExitStack() as cleanup:
        receiver = ThreadingHTTPServer(("127.0.0.1", 0), _Reject)
        threading.Thread(target=receiver.serve_forever, daemon=True).start()
        cleanup.callback(receiver.server_close)
        cleanup.callback(receiver.shutdown)
        config.write_text(DAEMON_CONFIG.format(rejecting_port=receiver.server_address[1]))
        daemon = Daemon(config, workdir / "tradewatch.log")
        cleanup.callback(daemon.stop)
        prometheus = Prometheus(prometheus_binary, workdir, daemon.address)
        cleanup.callback(prometheus.stop)

        def target_up() -> bool:
            targets = prometheus.api("targets")["data"]["activeTargets"]
            return any(t["labels"]["job"] == JOB and t["health"] == "up" for t in targets)

        wait_until(target_up, "the tradewatch target to be up")
        # An alert fires at the third replayed month (2014-12); rates need two scrapes.
        wait_until(lambda: prometheus.data('tradewatch_alerts{alertstate="firing"}'), "a firing alert")
        wait_until(lambda: prometheus.data("rate(tradewatch_source_poll_duration_seconds_count[1m]) > 0"),
                   "poll rates")
        series = sorted(prometheus.api("label/series/values")["data"])
        yield Stack(daemon, prometheus, series)
        assert daemon.stop() == 0, daemon.log.read_text()


def test_prometheus_scrapes_the_daemon(stack: Stack) -> None:
    [up] = stack.prometheus.data(f'up{{job="{JOB}"}} == 1')
    assert up["metric"]["instance"] == stack.daemon.address
    assert stack.series == ["rus-chn/export/total", "rus-chn/import/total"]


def expression_failures(prometheus: Prometheus, queries: list[Query]) -> list[str]:
    failures = []
    for query in queries:
        expr = concrete(query.text)
        body = prometheus.query(expr)
        if body.get("status") != "success":
            failures.append(f"{query.where}: {expr}\n    {body.get('errorType')}: {body.get('error')}")
    return failures


def test_every_dashboard_expression_evaluates_and_returns_data(stack: Stack) -> None:
    queries = [q for q in all_dashboard_queries() if q.kind == "expr"]
    assert len(queries) >= 20
    assert expression_failures(stack.prometheus, queries) == []
    empty = []
    for query in queries:
        expr = concrete(query.text)
        try:  # a counter born in the last scrape needs one more before rate() sees it
            wait_until(lambda expr=expr: stack.prometheus.data(expr), expr, timeout=10)
        except AssertionError:
            empty.append(f"{query.where}: {expr}")
    assert empty == [], "queries without data:\n" + "\n".join(empty)


def test_every_dashboard_variable_finds_values(stack: Stack) -> None:
    variables = [q for q in all_dashboard_queries() if q.kind == "label_values"]
    assert variables
    for query in variables:
        selector, label = parse_label_values(query.text)
        params = {"match[]": concrete(selector)} if selector else {}
        body = stack.prometheus.api(f"label/{label}/values", **params)
        assert body["status"] == "success", f"{query.where}: {body.get('error')}"
        assert body["data"], f"{query.where}: no values for {query.text}"


def test_every_rule_expression_evaluates(stack: Stack) -> None:
    queries = rule_queries()
    assert len(queries) == 7
    assert expression_failures(stack.prometheus, queries) == []


def test_rules_are_loaded_and_the_failure_alerts_match_real_labels(stack: Stack) -> None:
    def alerting_rules() -> dict[str, dict[str, Any]]:
        groups = stack.prometheus.api("rules", type="alert")["data"]["groups"]
        return {rule["name"]: rule for group in groups for rule in group["rules"]}

    def pending() -> dict[str, dict[str, Any]] | None:
        rules = alerting_rules()
        if all(rules[name]["alerts"] for name in ("TradewatchSourceFailing", "TradewatchDeliveriesParked",
                                                  "TradewatchReleaseOverdue")):
            return rules
        return None

    rules = wait_until(pending, "the failure alerts to be pending")
    assert set(rules) == {"TradewatchDown", "TradewatchSourceFailing", "TradewatchSourceLate",
                          "TradewatchReleaseOverdue", "TradewatchOutboxBacklog",
                          "TradewatchNotificationsFailing", "TradewatchDeliveriesParked"}
    for name, rule in rules.items():
        assert rule["health"] == "ok", f"{name}: {rule.get('lastError')}"
    [failing] = rules["TradewatchSourceFailing"]["alerts"]
    assert (failing["labels"]["source"], failing["state"]) == ("missing_file", "pending")
    [refused] = rules["TradewatchDeliveriesParked"]["alerts"]  # a 400 is a refusal: parked, not retried
    assert (refused["labels"]["receiver"], refused["state"]) == ("rejecting", "pending")
    [overdue] = rules["TradewatchReleaseOverdue"]["alerts"]
    assert (overdue["labels"]["source"], overdue["state"]) == ("rosstat_russia_china", "pending")
    for quiet in ("TradewatchDown", "TradewatchSourceLate", "TradewatchOutboxBacklog",
                  "TradewatchNotificationsFailing"):
        assert rules[quiet]["alerts"] == [], quiet


KEY_QUERIES = [
    f'tradewatch_series_value{{job="{JOB}", series="rus-chn/import/total", reporter="RUS", partner="CHN"}}',
    'tradewatch_series_yoy_percent{series="rus-chn/import/total"}',
    'tradewatch_alerts{alertname="yoy_sharp_fall", alertstate="firing", severity="critical"}',
    'tradewatch_source_up{source="rosstat_russia_china"} == 1',
    'tradewatch_source_up{source="missing_file"} == 0',
    'tradewatch_source_errors_total{source="missing_file", reason="not_found"} > 0',
    "rate(tradewatch_source_poll_duration_seconds_count[1m]) > 0",
    'tradewatch_notifications_total{receiver="console", outcome="sent"} > 0',
    'tradewatch_notifications_total{receiver="rejecting", outcome="parked"} > 0',
    'tradewatch_outbox_parked{receiver="rejecting"} > 0',
    "tradewatch_outbox_pending > 0",
    "tradewatch_outbox_oldest_age_seconds > 0",
    'tradewatch_build_info{version!="", python!=""} == 1',
    "tradewatch_source_last_success_timestamp_seconds",
    "tradewatch_cycles_total",
    'tradewatch_source_poll_interval_seconds{source="missing_file"} == 2',
    'tradewatch_source_poll_interval_seconds{source="rosstat_russia_china"} == 1',  # the replay's pace
    "tradewatch_source_next_poll_timestamp_seconds > time() - 5",
    'tradewatch_source_next_release_timestamp_seconds{source="rosstat_russia_china"} < time()',
    # The late rule's comparison: each source is within its interval and grace.
    'time() - tradewatch_source_last_success_timestamp_seconds{source="rosstat_russia_china"}'
    " < 1.1 * tradewatch_source_poll_interval_seconds + 1800",
]


@pytest.mark.parametrize("expr", KEY_QUERIES)
def test_key_queries_return_data(stack: Stack, expr: str) -> None:
    def has_data() -> list[dict[str, Any]]:
        return stack.prometheus.data(expr)

    wait_until(has_data, f"data for {expr}", timeout=15)


def test_no_created_series_are_scraped(stack: Stack) -> None:
    names = set(stack.prometheus.api("label/__name__/values")["data"])
    assert {"tradewatch_cycles_total", "tradewatch_source_poll_duration_seconds_count"} <= names
    assert sorted(n for n in names if n.endswith("_created")) == []
    assert stack.prometheus.data(f'{{__name__=~".+_created", job="{JOB}"}}') == []


def test_every_metric_the_dashboards_and_rules_use_is_exported(stack: Stack) -> None:
    used = {name for q in all_dashboard_queries() + rule_queries() for name in metric_names(q.text)}
    exported = set(stack.prometheus.api("label/__name__/values")["data"])
    assert used - exported == set()


def test_infinity_queries_match_the_json_api(stack: Stack) -> None:
    queries = [q for q in all_dashboard_queries() if q.kind == "infinity"]
    assert queries
    for query in queries:
        assert query.target is not None
        path = infinity_path(query.target, {"series": stack.series[-1]})
        response = httpx.get(stack.daemon.base + path, timeout=10)
        assert response.status_code == 200, f"{query.where}: {path}: {response.text}"
        rows = select(response.json(), query.target["root_selector"])
        assert isinstance(rows, list) and rows, f"{query.where}: no rows at {query.target['root_selector']}"
        for column in query.target["columns"]:
            assert column["selector"] in rows[0], f"{query.where}: no field {column['selector']!r}"
            if column["type"] == "timestamp":
                assert rows[0][column["selector"]].endswith("Z"), column
            if column["type"] == "number":
                assert isinstance(rows[0][column["selector"]], int | float), column


def test_docker_healthcheck_command_passes_against_the_daemon(stack: Stack) -> None:
    program, flag, code = healthcheck_command()
    assert program == "python" and flag == "-c"
    code = code.replace("127.0.0.1:9470", stack.daemon.address)
    result = subprocess.run([sys.executable, flag, code], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    broken = code.replace("/-/healthy", "/-/nothing-here")
    assert subprocess.run([sys.executable, flag, broken], capture_output=True, timeout=30).returncode != 0


def test_notifications_reached_the_console(stack: Stack) -> None:
    lines: list[str] = []
    while not stack.daemon.lines.empty():
        lines.append(stack.daemon.lines.get())
    assert ("Russia's imports from China: down 20.3% YoY in December 2014 · critical · Russia's imports from "
            "China fell 20.3% YoY in December 2014, below the -20% threshold.") in lines, lines
