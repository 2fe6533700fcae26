"""What /metrics exports beyond one cycle's facts: no `_created` series, units told apart,
per-series families capped, and each source's schedule (scraped over real HTTP)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from monitor.app import App
from monitor.config import load_config
from tests.conftest import ROSSTAT_BOTH_FLOWS, truncate_csv

OPENMETRICS = "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.3"

CONFIG = """
store: {path: state/tradewatch.db}
sources:
""" + ROSSTAT_BOTH_FLOWS + """    schedule: {every: 1h}
    release: {day: 20, lag: 1, timezone: Europe/Moscow}
  - name: eurostat
    kind: file
    path: eu.csv
    value_column: value
    label_columns: {reporter: reporter, partner: partner, flow: flow}
    labels: {commodity: TOTAL, currency: EUR}
    schedule: {cron: "0 11 * * *"}
rules:
  - name: decline
    select: {flow: [import]}
    transform: {kind: yoy_pct}
    detector: {kind: consecutive, direction: below, threshold: -5, count: 5}
    export_metrics: true
  - name: slow_decline
    select: {reporter: [RUS]}
    transform: {kind: yoy_pct}
    detector: {kind: threshold, direction: below, threshold: -5}
    for: 50
    export_metrics: true
"""
EU_CSV = ("period,reporter,partner,flow,value\n"
          "2024-01,EU27,RUS,export,2500.5\n2024-02,EU27,RUS,export,2400.0\n")


@pytest.fixture
def config_path(write_config: Callable[..., Path], russia_china_csv: Path, tmp_path: Path) -> Path:
    truncate_csv(russia_china_csv, "2015-03")
    (tmp_path / "eu.csv").write_text(EU_CSV)
    return write_config(CONFIG)


def scrape(app: App, accept: str = "") -> str:
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        seen["status"] = status

    environ = {"HTTP_ACCEPT": accept, "QUERY_STRING": "", "REQUEST_METHOD": "GET", "PATH_INFO": "/metrics"}
    body = b"".join(app.metrics_endpoint()(environ, start_response))
    assert seen["status"] == "200 OK"
    return body.decode()


def samples(text: str, name: str) -> dict[str, float]:
    """series label (or "" without one) -> value of every sample of `name`."""
    return {s.labels.get("series", s.labels.get("source", "")): s.value
            for family in text_string_to_metric_families(text) for s in family.samples if s.name == name}


@pytest.mark.parametrize("accept", ["", OPENMETRICS])
def test_no_created_series_in_either_format(config_path: Path, accept: str) -> None:
    app = App(load_config(config_path))
    app.run_once()
    try:
        text = scrape(app, accept)
        everything = generate_latest(app.registry).decode()  # the registry other consumers read
    finally:
        app.store.close()
    assert "tradewatch_cycles_total{" in text and "tradewatch_source_poll_duration_seconds_bucket{" in text
    assert "_created" not in text
    assert "_created" not in everything


def test_other_registries_keep_their_created_series(config_path: Path) -> None:
    app = App(load_config(config_path))
    app.store.close()
    other = CollectorRegistry()
    Counter("elsewhere", "A counter of another registry in the same process.", registry=other).inc()
    assert "elsewhere_created" in generate_latest(other).decode()


def test_values_carry_their_unit(config_path: Path) -> None:
    config = config_path.read_text().replace("    select: {reporter: [RUS]}\n", "")
    config_path.write_text(config)
    app = App(load_config(config_path))
    app.run_once()
    text = scrape(app)
    app.store.close()
    units = {s.labels["series"]: s.labels["unit"] for family in text_string_to_metric_families(text)
             for s in family.samples if s.name == "tradewatch_series_value"}
    assert units == {"rus-chn/export/total": "USD_M", "rus-chn/import/total": "USD_M",
                     "eu27-rus/export/total": "EUR"}  # a `currency` label names the unit


def test_alerts_are_capped_by_the_series_limit_firing_first(config_path: Path) -> None:
    uncapped = App(load_config(config_path))
    uncapped.run_once()
    text = scrape(uncapped)
    uncapped.store.close()
    states = {(s.labels["alertname"], s.labels["series"], s.labels["alertstate"])
              for family in text_string_to_metric_families(text) for s in family.samples
              if s.name == "tradewatch_alerts"}
    assert states == {("decline", "rus-chn/import/total", "firing"),
                      ("slow_decline", "rus-chn/import/total", "pending"),
                      ("slow_decline", "rus-chn/export/total", "pending")}
    assert samples(text, "tradewatch_alerts_export_dropped") == {"": 0.0}

    config_path.write_text(config_path.read_text() + "metrics: {series_limit: 1}\n")
    capped = App(load_config(config_path))
    text = scrape(capped)
    capped.store.close()
    kept = {(s.labels["alertname"], s.labels["series"]) for family in text_string_to_metric_families(text)
            for s in family.samples if s.name == "tradewatch_alerts"}
    # export sorts first, but import has a firing alert: import's alerts stay, all of them
    assert kept == {("decline", "rus-chn/import/total"), ("slow_decline", "rus-chn/import/total")}
    assert samples(text, "tradewatch_alerts_export_dropped") == {"": 1.0}
    assert samples(text, "tradewatch_series_export_dropped") == {"": 1.0}  # the same limit on both


def test_schedules_are_scraped_from_the_running_daemon(config_path: Path) -> None:
    store = "store: {path: state/tradewatch.db}"
    config = config_path.read_text().replace(store, store + '\nhttp: {listen: "127.0.0.1:0"}')
    config_path.write_text(config)
    app = App(load_config(config_path))
    url = app.start()
    try:
        deadline = time.monotonic() + 60  # a generous bound for a loaded machine
        while not app.ready()[0] and time.monotonic() < deadline:
            time.sleep(0.1)
        assert app.ready()[0]
        text = httpx.get(url, timeout=30).text
    finally:
        app.stop()
    now = datetime.now(UTC).timestamp()
    intervals = samples(text, "tradewatch_source_poll_interval_seconds")
    assert intervals == {"rosstat": 3600.0, "eurostat": 86400.0}
    next_poll = samples(text, "tradewatch_source_next_poll_timestamp_seconds")
    assert set(next_poll) == {"rosstat", "eurostat"}
    assert now < next_poll["rosstat"] <= now + 3600
    eleven = datetime.fromtimestamp(next_poll["eurostat"], UTC)
    assert (eleven.hour, eleven.minute) == (11, 0) and now < next_poll["eurostat"] <= now + 86400
    # Rosstat's newest period is 2015-03: April's is due on 20 May 2015, Moscow time; long overdue.
    assert samples(text, "tradewatch_source_next_release_timestamp_seconds") == {
        "rosstat": datetime(2015, 5, 19, 21, tzinfo=UTC).timestamp()}
