"""The generic JSON source against a local server: field mapping, pagination, failures."""

from __future__ import annotations

import json
import logging
import textwrap
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from monitor.config import HttpJsonSource as HttpJsonConfig
from monitor.config import load_config
from monitor.sources.base import SourceError
from monitor.sources.http_json import HttpJsonSource, lookup
from tests.monitor.httpserver import LocalServer, Reply, Request

TOKEN = "feed-token-9f8e7d6c"
FAST = {"attempts": 3, "backoff": "10ms", "max_backoff": "50ms", "deadline": "5s"}

PAGE_1 = {
    "meta": {"next": "/feed?page=2&access_token=tok-abcdef"},
    "result": {"items": [
        {"month": "2025-06", "usd": 9000.5, "reporter": {"iso3": "CHN"}, "partner": "RU", "dir": "X"},
        {"month": "2025-07", "usd": "8226.25", "reporter": {"iso3": "CHN"}, "partner": "RU", "dir": "X"},
        {"month": "2025-07", "usd": None, "reporter": {"iso3": "CHN"}, "partner": "RU", "dir": "M"},
    ]},
}
PAGE_2 = {
    "meta": {"next": None},
    "result": {"items": [
        {"month": "2025M08", "usd": 7800, "reporter": {"iso3": "CHN"}, "partner": "RU", "dir": "X"},
        {"month": "August", "usd": 1, "reporter": {"iso3": "CHN"}, "partner": "RU", "dir": "X"},
        {"month": "2025-08", "usd": "n/a", "reporter": {"iso3": "CHN"}, "partner": "RU", "dir": "X"},
        {"month": "2025-08", "usd": 5, "reporter": {}, "partner": "RU", "dir": "X"},
    ]},
}


def config(server: LocalServer, **fields: Any) -> HttpJsonConfig:
    return HttpJsonConfig.model_validate({
        "kind": "http_json", "name": "desk_feed", "url": f"{server.url}/feed", "timeout": "2s",
        "retry": FAST, "records": "result.items", "period": "month", "value": "usd",
        "labels": {"reporter": "$.reporter.iso3", "partner": "partner", "flow": "dir"},
        "constant_labels": {"commodity": "TOTAL", "unit": "USD_M"}, "next": "$.meta.next",
        "headers": {"Authorization": f"Bearer {TOKEN}"}, **fields,
    })


def pages(request: Request) -> Reply:
    page = PAGE_2 if request.query.get("page") == "2" else PAGE_1
    return Reply(200, json.dumps(page).encode(), {"Content-Type": "application/json"})


def failure(source: HttpJsonSource) -> SourceError:
    with pytest.raises(SourceError) as caught:
        source.fetch()
    return caught.value


def test_records_fields_paths_and_pages(local_server: LocalServer) -> None:
    local_server.route("/feed", pages)
    result = HttpJsonSource(config(local_server, params={"country": "CHN"})).fetch()
    shown = f"{local_server.url}/feed?page=2&access_token=***"
    assert result.problems == (
        f"{shown} record 1: cannot read period 'August'",
        f"{shown} record 2: value 'n/a' is not a number",
        f"{shown} record 3: no label 'reporter' at '$.reporter.iso3'",
    )
    frame = result.frame
    assert frame[["series", "period", "value"]].to_dict("list") == {
        "series": ["chn-rus/export/total"] * 3,
        "period": [pd.Period("2025-06", "M"), pd.Period("2025-07", "M"), pd.Period("2025-08", "M")],
        "value": [9000.5, 8226.25, 7800.0],
    }
    assert frame.iloc[0].to_dict() == {
        "series": "chn-rus/export/total", "period": pd.Period("2025-06", "M"), "value": 9000.5,
        "commodity": "TOTAL", "flow": "export", "partner": "RUS", "reporter": "CHN",
        "source": "desk_feed", "unit": "USD_M",
    }
    first, second = local_server.to("/feed")
    assert first.query == {"country": "CHN"}
    assert second.query == {"page": "2", "access_token": "tok-abcdef"}
    assert first.headers["authorization"] == f"Bearer {TOKEN}"


def test_the_page_cap_stops_a_feed_that_links_to_itself(local_server: LocalServer) -> None:
    looping = {**PAGE_1, "meta": {"next": "/feed"}}
    local_server.route("/feed", Reply(200, json.dumps(looping).encode()))
    result = HttpJsonSource(config(local_server, max_pages=3)).fetch()
    assert len(local_server.to("/feed")) == 3
    assert result.problems == ("stopped after 3 pages (max_pages); more pages follow",)
    assert len(result.frame) == 2


def test_a_body_that_is_the_list(local_server: LocalServer) -> None:
    body = [{"period": "2024Q1", "value": 1.5}, {"period": "2024-Q2", "value": 2.5}]
    local_server.route("/feed", Reply(200, json.dumps(body).encode()))
    cfg = config(local_server, records="", period="period", value="value", labels={}, next=None,
                 constant_labels={"reporter": "DE"}, frequency="Q")
    frame = HttpJsonSource(cfg).fetch().frame
    assert frame[["series", "value"]].to_dict("list") == {"series": ["deu", "deu"], "value": [1.5, 2.5]}
    assert [str(p) for p in frame["period"]] == ["2024Q1", "2024Q2"]


def test_an_empty_list_is_an_empty_frame(local_server: LocalServer) -> None:
    local_server.route("/feed", Reply(200, b'{"meta": {}, "result": {"items": []}}'))
    result = HttpJsonSource(config(local_server)).fetch()
    assert result.frame.empty and result.problems == ()


def test_records_that_are_not_a_list(local_server: LocalServer) -> None:
    local_server.route("/feed", Reply(200, b'{"result": {"items": {"month": "2025-06"}}}'))
    error = failure(HttpJsonSource(config(local_server)))
    assert (error.reason, str(error)) == (
        "parse", f"source 'desk_feed': {local_server.url}/feed: result.items is not a list of records "
        "(found dict)")


def test_malformed_json(local_server: LocalServer) -> None:
    local_server.route("/feed", Reply(200, b'{"result": {"items": [{"month": '))
    error = failure(HttpJsonSource(config(local_server)))
    assert error.reason == "parse"
    assert str(error).startswith(f"source 'desk_feed': cannot parse {local_server.url}/feed as JSON: ")


def test_rate_limited_then_served(local_server: LocalServer) -> None:
    local_server.route("/feed", Reply(429, b"", {"Retry-After": "1"}),
                       Reply(200, json.dumps(PAGE_2).encode()))
    assert len(HttpJsonSource(config(local_server)).fetch().frame) == 1


def test_server_error_then_served_and_forever(local_server: LocalServer) -> None:
    local_server.route("/feed", Reply(500), Reply(200, json.dumps(PAGE_2).encode()))
    assert len(HttpJsonSource(config(local_server)).fetch().frame) == 1
    local_server.route("/other", Reply(500))
    error = failure(HttpJsonSource(config(local_server, url=f"{local_server.url}/other")))
    assert (error.reason, str(error)) == (
        "http_5xx",
        f"source 'desk_feed': {local_server.url}/other answered HTTP 500 (gave up after 3 attempts)")


def test_timeout(local_server: LocalServer) -> None:
    local_server.route("/feed", Reply(200, b"[]", wait=5))
    error = failure(HttpJsonSource(config(local_server, timeout="300ms", retry={**FAST, "attempts": 1})))
    assert (error.reason, str(error)) == (
        "timeout", f"source 'desk_feed': timed out reading {local_server.url}/feed")


def test_header_tokens_and_query_tokens_never_show(local_server: LocalServer,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    local_server.route("/feed", lambda r: Reply(200, json.dumps(PAGE_1).encode()) if not r.query
                       else Reply(403, f"token {TOKEN} refused".encode()))
    with caplog.at_level(logging.DEBUG):
        error = failure(HttpJsonSource(config(local_server)))
    assert error.reason == "http_4xx"
    assert str(error) == (f"source 'desk_feed': {local_server.url}/feed?page=2&access_token=*** "
                          "answered HTTP 403: token *** refused")
    text = str(error) + caplog.text
    assert TOKEN not in text and "tok-abcdef" not in text


def test_headers_take_secrets_from_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "tradewatch.yaml"
    path.write_text(textwrap.dedent("""
        sources:
          - name: desk_feed
            kind: http_json
            url: https://feeds.example.org/trade
            headers: {Authorization: "Bearer ${FEED_TOKEN}"}
            records: data.items
            period: month
            value: $.value.usd
            labels: {reporter: "$.reporter", partner: partner}
    """))
    source = load_config(path, env={"FEED_TOKEN": TOKEN}).config.sources[0]
    assert isinstance(source, HttpJsonConfig)
    assert source.headers == {"Authorization": f"Bearer {TOKEN}"}


@pytest.mark.parametrize(("path", "found"), [
    ("a.b", 1), ("$.a.b", 1), ("a.list[1].c", "y"), ("a.list[5].c", None), ("a.missing.c", None), ("", None),
])
def test_lookup(path: str, found: object) -> None:
    node = {"a": {"b": 1, "list": [{"c": "x"}, {"c": "y"}]}}
    assert lookup(node, path) == (node if path == "" else found)
