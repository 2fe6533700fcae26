"""The fast /metrics renderer writes exactly what prometheus_client writes."""

from __future__ import annotations

import gzip
from collections.abc import Iterable
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, make_wsgi_app

from monitor.exposition import ExportRegistry, GaugeTable, metrics_app, render

LABELS = ("series", "source", "flow")


def _tables() -> list[GaugeTable]:
    odd = ("rus-chn/export/84", 'a "quoted"\\ back\nslash', "export")
    plain = ("aut-chn/import/total", "trade_0", "import")
    value = GaugeTable("tradewatch_series_value", 'Newest value (a "doc" with \\ and\nnewline).', LABELS)
    value.rows += [(odd, 1234.5), (plain, float("nan")), (("b", "c", "d"), float("inf"))]
    age = GaugeTable("tradewatch_series_period_age_seconds", "Age.", LABELS)
    age.rows += [(odd, 0.0), (plain, -1e-300), (("x", "", "z"), 12345678901234.0)]
    return [value, age, GaugeTable("tradewatch_series_watched", "Series.", (), [((), 3.0)]),
            GaugeTable("tradewatch_alerts", "Alerts.", ("alertname", "series", "severity", "alertstate"))]


def _base() -> CollectorRegistry:
    base = CollectorRegistry()
    Counter("tradewatch_cycles", "Cycles.", ["source"], registry=base).labels("trade_0").inc(3)
    Gauge("tradewatch_source_up", "Up.", ["source"], registry=base).labels("trade_0").set(1)
    Histogram("tradewatch_poll_seconds", "Polls.", registry=base).observe(0.3)
    return base


class _Tables:
    def collect(self) -> Iterable[Any]:
        return [t.family() for t in _tables()]


def _scrape(app: Any, accept: str = "", query: str = "",
            encoding: str = "") -> tuple[str, dict[str, str], bytes]:
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        seen["status"], seen["headers"] = status, dict(headers)

    body = b"".join(app({"HTTP_ACCEPT": accept, "QUERY_STRING": query, "HTTP_ACCEPT_ENCODING": encoding,
                         "REQUEST_METHOD": "GET", "PATH_INFO": "/metrics"}, start_response))
    return seen["status"], seen["headers"], body


def _reference(accept: str) -> tuple[dict[str, str], bytes]:
    combined = CollectorRegistry()
    combined.register(_base())
    combined.register(_Tables())
    _, headers, body = _scrape(make_wsgi_app(combined), accept)
    return headers, body


@pytest.mark.parametrize("accept", [
    "",
    "text/plain;version=0.0.4",
    "application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,"
    "text/plain;version=0.0.4;q=0.3,*/*;q=0.2",  # what Prometheus sends
    "application/openmetrics-text; version=1.0.0",
])
def test_output_is_byte_for_byte_prometheus_clients(accept: str) -> None:
    app = metrics_app(_base(), _tables)
    status, headers, body = _scrape(app, accept)
    ref_headers, reference = _reference(accept)
    assert status == "200 OK"
    assert headers["Content-Type"] == ref_headers["Content-Type"]
    created = [line for line in reference.decode().splitlines() if "_created" in line]
    # `_created` samples carry the creation time of each registry's own counter: drop them.
    strip = [line for line in body.decode().splitlines() if "_created" not in line]
    assert strip == [line for line in reference.decode().splitlines() if line not in created]
    assert 'source="a \\"quoted\\"\\\\ back\\nslash"' in body.decode()


def test_gzip_when_asked() -> None:
    _, headers, body = _scrape(metrics_app(_base(), _tables), encoding="gzip, deflate")
    assert headers["Content-Encoding"] == "gzip"
    assert b"tradewatch_series_value{" in gzip.decompress(body)


def test_a_name_filter_falls_back_to_prometheus_client() -> None:
    _, _, body = _scrape(metrics_app(_base(), _tables), query="name[]=tradewatch_series_watched")
    assert body.decode().splitlines() == [
        "# HELP tradewatch_series_watched Series.",
        "# TYPE tradewatch_series_watched gauge",
        "tradewatch_series_watched 3.0",
    ]


def test_render_shares_a_series_label_text_between_tables() -> None:
    text = render(_tables()[:2], openmetrics=False)
    assert text.count('{flow="export",series="rus-chn/export/84",source=') == 2  # sorted label names
    assert "tradewatch_series_value{" in text and "NaN" in text and "+Inf" in text


@pytest.mark.parametrize("accept", ["", "application/openmetrics-text; version=1.0.0"])
@pytest.mark.parametrize("query", ["", "name[]=tradewatch_cycles_total&name[]=tradewatch_cycles_created"])
def test_an_export_registry_has_no_created_series(accept: str, query: str) -> None:
    base = ExportRegistry()
    Counter("tradewatch_cycles", "Cycles.", ["source"], registry=base).labels("trade_0").inc(3)
    Histogram("tradewatch_poll_seconds", "Polls.", registry=base).observe(0.3)
    _, _, body = _scrape(metrics_app(base, _tables), accept, query)
    text = body.decode()
    assert "tradewatch_cycles_total" in text
    assert "_created" not in text
    assert "_created" in _reference(accept)[1].decode()  # a plain registry keeps them: no global switch
